#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The kernel model (tests/model/kmodel.c) against the real kernel: for each
# seed, model-trace runs the same random operations on rproc_sim cores and on
# the model, and the two normalised traces must be identical. A difference
# fails with the seed and the first differing line (docs/MODEL.md).
#
#   compare.sh [SEED...]      default: 5 fixed seeds and one from
#                             RPROCD_MODEL_SEED (else the date); RPROCD_MODEL_STEPS steps each (200)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MODEL_TRACE=${MODEL_TRACE:-$RPROCD_BUILD_DIR/tests/model/model-trace}
steps=${RPROCD_MODEL_STEPS:-200}
[[ -x "$MODEL_TRACE" ]] || die "no model-trace at '$MODEL_TRACE'"

case "$(uname -r)" in
6.1.*) kernel=6.1 ;;
6.12.*) kernel=6.12 ;;
*) die "no model of kernel $(uname -r)" ;;
esac
out=/run/model-compare
mkdir -p "$out"

compare_seed() {
	local seed=$1 real="$out/real-$1.txt" model="$out/model-$1.txt"

	devcd_clear
	sim_unload
	devcd_clear
	# shellcheck disable=SC2046 # the parameters are words
	sim_load $("$MODEL_TRACE" --sim-params)
	"$MODEL_TRACE" --backend sysfs --fw-src "$(fw_image fw64)" --seed "$seed" \
		--steps "$steps" >"$real" || _assert_fail "model-trace on the kernel failed (seed $seed)"
	"$MODEL_TRACE" --backend model --kernel "$kernel" --seed "$seed" --steps "$steps" \
		>"$model" || _assert_fail "model-trace on the model failed (seed $seed)"
	if ! cmp -s "$real" "$model"; then
		local line
		line=$(cmp "$real" "$model" | sed -n 's/.* line \([0-9]*\).*/\1/p')
		echo "seed $seed, kernel $kernel: the traces differ at line $line"
		echo "  kernel: $(sed -n "${line}p" "$real")"
		echo "  model:  $(sed -n "${line}p" "$model")"
		echo "  (the steps before it:)"
		sed -n "$((line > 4 ? line - 4 : 1)),$((line - 1))p" "$real" | cut -c1-200 | sed 's/^/    /'
		echo "  reproduce the model's side: model-trace --backend model --kernel $kernel --seed $seed --steps $steps --trace"
		_assert_fail "seed $seed: the model disagrees with the kernel"
	fi
	echo "seed $seed: $(wc -l <"$real") lines identical"
}

seeds=("$@")
if ((${#seeds[@]} == 0)); then
	seeds=(1 2 3 4 5 "${RPROCD_MODEL_SEED:-$(date +%Y%m%d)}")
fi
for s in "${seeds[@]}"; do
	test_case "seed $s ($steps steps, $kernel)" compare_seed "$s"
done
devcd_clear
sim_unload
test_summary
