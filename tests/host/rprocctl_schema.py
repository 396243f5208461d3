#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check rprocctl's JSON output against its one schema (rprocctl(1), JSON OUTPUT).

    rprocctl_schema.py [--mode short|pretty] [--xml-dir DIR] [--partial] [--expect-n N] VERB FILE
    rprocctl_schema.py [--xml-dir DIR] --batch LIST


VERB is the command whose output FILE holds: list, status, show, show-manager,
is-running, is-ready, reload, cat, verify, validate, monitor, logs. Core
properties are checked against the interface files in DIR (systemd/ of the
source tree): every property there, each with a JSON type that matches its
D-Bus type (numbers as numbers, booleans as booleans, arrays as arrays,
Channels as objects). --mode checks the layout too: short is one line per
document, pretty is indented by two spaces; both are exactly what Python's
json module writes for the same data. --batch checks many outputs in one
run: each line of LIST holds the arguments of one check (MODE VERB FILE and
the options). Prints nothing and exits 0 when all holds; prints what does
not and exits 1 otherwise.
"""

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

STATES = {"offline", "suspended", "running", "crashed", "deleted", "attached", "detached",
          "invalid", "unknown"}
CHANNEL_FIELDS = ["Name", "LocalAddress", "RemoteAddress", "Device", "Node"]
# cat: how some keys' Values are typed (librproc's rproc_config_key_kind()).
# (A key missing here is still checked: its Value must be its Text read back.)
CONFIG_NUMBERS = {"Core.FirmwareClass", "Core.StartLimitBurst", "Core.CoredumpMaxFiles",
                  "Core.CoredumpMaxUse"}
CONFIG_BOOLEANS = {"Core.BindLifetime"}
CONFIG_LISTS = {"Core.Requires", "Core.After", "Core.ReadyWhen", "Core.FirmwareDigest",
                "Match.Compatible", "Match.Model"}

errors = []


def fail(where, msg):
    errors.append(f"{where}: {msg}")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def split_signature(sig):
    """'sa(su)b' -> ['s', 'a(su)', 'b']"""
    out, i = [], 0
    while i < len(sig):
        j = i
        while sig[j] == "a":
            j += 1
        if sig[j] in "({":
            close = ")" if sig[j] == "(" else "}"
            depth = 0
            while True:
                if sig[j] in "({":
                    depth += 1
                elif sig[j] in ")}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            assert sig[j] == close
        out.append(sig[i:j + 1])
        i = j + 1
    return out


def check_value(where, sig, v, prop=None):
    if sig in ("s", "o", "g"):
        if not isinstance(v, str):
            fail(where, f"a string ({sig}) expected, got {v!r}")
    elif sig == "b":
        if not isinstance(v, bool):
            fail(where, f"a boolean expected, got {v!r}")
    elif sig in ("y", "q", "u", "t"):
        if not is_int(v) or v < 0 or v >= 1 << {"y": 8, "q": 16, "u": 32, "t": 64}[sig]:
            fail(where, f"an unsigned number ({sig}) expected, got {v!r}")
    elif sig in ("n", "i", "x", "h"):
        if not is_int(v):
            fail(where, f"a number ({sig}) expected, got {v!r}")
    elif sig == "d":
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            fail(where, f"a number (d) expected, got {v!r}")
    elif prop == "Channels" and sig == "a(suuss)":
        if not isinstance(v, list):
            fail(where, f"an array expected, got {v!r}")
            return
        for k, c in enumerate(v):
            if not isinstance(c, dict) or list(c) != CHANNEL_FIELDS:
                fail(f"{where}[{k}]", f"an object with {CHANNEL_FIELDS} expected, got {c!r}")
                continue
            for f, s in zip(CHANNEL_FIELDS, split_signature("suuss")):
                check_value(f"{where}[{k}].{f}", s, c[f])
    elif sig.startswith("a{"):
        if not isinstance(v, dict):
            fail(where, f"an object expected, got {v!r}")
            return
        _, vs = split_signature(sig[2:-1])
        for k, x in v.items():
            check_value(f"{where}.{k}", vs, x)
    elif sig.startswith("a"):
        if not isinstance(v, list):
            fail(where, f"an array ({sig}) expected, got {v!r}")
            return
        for k, x in enumerate(v):
            check_value(f"{where}[{k}]", sig[1:], x)
    elif sig.startswith("("):
        fields = split_signature(sig[1:-1])
        if not isinstance(v, list) or len(v) != len(fields):
            fail(where, f"an array of {len(fields)} expected, got {v!r}")
            return
        for k, (s, x) in enumerate(zip(fields, v)):
            check_value(f"{where}[{k}]", s, x)
    else:
        fail(where, f"unknown signature {sig}")


def interface_properties(xml_dir, iface):
    root = ET.parse(os.path.join(xml_dir, f"{iface}.xml")).getroot()
    for i in root.iter("interface"):
        if i.get("name") == iface:
            return {p.get("name"): p.get("type") for p in i.iter("property")}
    raise SystemExit(f"no interface {iface} in {xml_dir}")


def check_props(where, obj, props, complete=True):
    if not isinstance(obj, dict):
        fail(where, f"an object expected, got {obj!r}")
        return
    for k, v in obj.items():
        if k not in props:
            fail(where, f"{k} is not a property of the interface")
            continue
        check_value(f"{where}.{k}", props[k], v, k)
    if complete:
        missing = set(props) - set(obj)
        if missing:
            fail(where, f"properties missing: {sorted(missing)}")


def check_keys(where, obj, keys):
    """keys: {name: checker(where, value)}; exactly those keys."""
    if not isinstance(obj, dict):
        fail(where, f"an object expected, got {obj!r}")
        return
    if set(obj) != set(keys):
        fail(where, f"keys {sorted(obj)}, expected {sorted(keys)}")
    for k, check in keys.items():
        if k in obj:
            check(f"{where}.{k}", obj[k])


def t_str(where, v):
    if not isinstance(v, str):
        fail(where, f"a string expected, got {v!r}")


def t_str_or_null(where, v):
    if v is not None and not isinstance(v, str):
        fail(where, f"a string or null expected, got {v!r}")


def t_int(where, v):
    if not is_int(v) or v < 0:
        fail(where, f"a number expected, got {v!r}")


def t_bool(where, v):
    if not isinstance(v, bool):
        fail(where, f"a boolean expected, got {v!r}")


def t_strv(where, v):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        fail(where, f"an array of strings expected, got {v!r}")


def t_state(where, v):
    if v not in STATES:
        fail(where, f"a state expected, got {v!r}")


def t_diags(where, v):
    if not isinstance(v, list):
        fail(where, f"an array expected, got {v!r}")
        return
    for k, d in enumerate(v):
        check_keys(f"{where}[{k}]", d, {
            "Level": lambda w, x: x in ("error", "warning", "note") or fail(w, f"level {x!r}"),
            "File": t_str_or_null, "Line": t_int, "Message": t_str})


def words(text):
    """A list value's text as librproc writes it: words, "…" around one with a space."""
    out, w, quoted, i, have = [], "", False, 0, False
    while i < len(text):
        c = text[i]
        if c == '"':
            quoted, have = not quoted, True
        elif quoted and c == "\\" and i + 1 < len(text):
            i += 1
            w += text[i]
        elif not quoted and c in " \t":
            if w or have:
                out.append(w)
            w, have = "", False
        else:
            w += c
        i += 1
    if w or have:
        out.append(w)
    return out


def timespan(text):
    """µs of "1min 30s", "500ms", "infinity"; None when it is not one."""
    if text == "infinity":
        return (1 << 64) - 1
    units = {"d": 86400_000_000, "h": 3600_000_000, "min": 60_000_000, "s": 1_000_000,
             "ms": 1000, "us": 1}
    total = 0
    for part in text.split():
        num = part.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = part[len(num):]
        if not num.isdigit() or unit not in units:
            return None
        total += int(num) * units[unit]
    return total if text.split() else None


def t_setting(key):
    def check(where, s):
        def line(w, v):
            if v is not None:
                t_int(w, v)
        check_keys(where, s, {"Value": lambda w, v: None, "Text": t_str, "File": t_str_or_null,
                              "Line": line})
        if not isinstance(s, dict) or not isinstance(s.get("Text"), str):
            return
        v, text = s.get("Value"), s["Text"]
        # the typed value is the text read back
        if isinstance(v, bool):
            if text not in ("yes", "no") or (text == "yes") != v:
                fail(where, f"boolean {v!r} is not the text {text!r}")
        elif is_int(v):
            size = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
            if not (text == str(v) or timespan(text) == v or
                    (text[:-1].isdigit() and text[-1:] in size and
                     int(text[:-1]) * size[text[-1]] == v)):
                fail(where, f"number {v!r} is not the text {text!r}")
        elif isinstance(v, list):
            if words(text) != v:
                fail(where, f"list {v!r} is not the words of {text!r}")
        elif isinstance(v, str):
            if v != text:
                fail(where, f"string {v!r} is not the text {text!r}")
        else:
            fail(where, f"Value {v!r}: not a JSON type the schema has")
        # and typed where the kind is known: time spans (…Sec), numbers, booleans, lists
        if (key.endswith("Sec") or key in CONFIG_NUMBERS) and not is_int(v):
            fail(where, f"a number expected, got {v!r}")
        if key in CONFIG_BOOLEANS and not isinstance(v, bool):
            fail(where, f"a boolean expected, got {v!r}")
        if key in CONFIG_LISTS and not isinstance(v, list):
            fail(where, f"an array expected, got {v!r}")
        if (s.get("File") is None) != (s.get("Line") is None):
            fail(where, "File and Line are both null (a default) or both set")
    return check


def t_settings(where, v):
    if not isinstance(v, dict):
        return fail(where, "an object expected")
    for key, s in v.items():
        if "." not in key:
            fail(f"{where}.{key}", "a Section.Key name expected")
        t_setting(key)(f"{where}.{key}", s)


def t_verify_cores(where, v):
    if not isinstance(v, list):
        return fail(where, "an array expected")
    for k, c in enumerate(v):
        check_keys(f"{where}[{k}]", c, {"Name": t_str, "Path": t_str_or_null, "Masked": t_bool,
                                        "OtherBoard": t_bool, "Valid": t_bool,
                                        "Diagnostics": t_diags})


def t_board(where, v):
    check_keys(where, v, {"Known": t_bool, "Compatible": t_strv, "Model": t_str_or_null})


def check_document(verb, doc, args, where):
    if verb == "list":
        if not isinstance(doc, list):
            return fail(where, "an array expected")
        for k, c in enumerate(doc):
            check_keys(f"{where}[{k}]", c, {
                "Name": t_str, "KernelName": t_str, "State": t_state, "Managed": t_bool,
                "ObjectPath": lambda w, v: (isinstance(v, str) and v.startswith(
                    "/org/rprocd1/core/")) or fail(w, f"object path {v!r}")})
    elif verb in ("status", "show"):
        props = interface_properties(args.xml_dir, "org.rprocd1.Core")
        if not isinstance(doc, list):
            return fail(where, "an array expected")
        for k, c in enumerate(doc):
            check_props(f"{where}[{k}]", c, props, complete=not args.partial)
    elif verb == "show-manager":
        check_props(where, doc, interface_properties(args.xml_dir, "org.rprocd1.Manager"),
                    complete=not args.partial)
    elif verb in ("is-running", "is-ready"):
        if not isinstance(doc, list):
            return fail(where, "an array expected")
        key = "Ready" if verb == "is-ready" else "Running"
        for k, c in enumerate(doc):
            check_keys(f"{where}[{k}]", c, {"Name": t_str, "State": lambda w, v: v is None or
                                            t_state(w, v), key: t_bool})
    elif verb == "reload":
        t_strv(where, doc)
    elif verb == "cat":
        if not isinstance(doc, list):
            return fail(where, "an array expected")
        for k, c in enumerate(doc):
            check_keys(f"{where}[{k}]", c, {
                "Name": t_str, "Path": t_str_or_null, "DropIns": t_strv, "DefaultsFiles": t_strv,
                "Masked": t_bool, "OtherBoard": t_bool, "Valid": t_bool, "Diagnostics": t_diags,
                "Settings": t_settings})
    elif verb == "verify":
        check_keys(where, doc, {
            "Diagnostics": t_diags, "Board": t_board, "Cores": t_verify_cores, "NFiles": t_int,
            "NManaged": t_int, "NNotManaged": t_int, "NMasked": t_int, "NOtherBoard": t_int,
            "NErrors": t_int, "NWarnings": t_int})
        if isinstance(doc, dict) and isinstance(doc.get("Cores"), list):
            if doc.get("NFiles") != len(doc["Cores"]):
                fail(where, "NFiles is not the number of Cores")
            if doc.get("NFiles") != sum(doc.get(k, 0) for k in (
                    "NManaged", "NNotManaged", "NMasked", "NOtherBoard")):
                fail(where, "NFiles is not NManaged + NNotManaged + NMasked + NOtherBoard")
    elif verb == "validate":
        if not isinstance(doc, list):
            return fail(where, "an array expected")
        for k, f in enumerate(doc):
            w = f"{where}[{k}]"
            if not isinstance(f, dict) or not isinstance(f.get("Valid"), bool):
                fail(w, f"an object with Valid expected, got {f!r}")
                continue
            if not f["Valid"]:
                check_keys(w, f, {"File": t_str, "Valid": t_bool, "Error": t_str,
                                  "Message": t_str})
            elif f.get("Format") == "opaque":
                check_keys(w, f, {"File": t_str, "Valid": t_bool, "Format": t_str, "Size": t_int})
            else:
                check_keys(w, f, {
                    "File": t_str, "Valid": t_bool, "Format": t_str, "Size": t_int,
                    "Class": lambda w2, v: v in (32, 64) or fail(w2, f"class {v!r}"),
                    "Machine": t_int, "MachineName": t_str_or_null, "Entry": t_int,
                    "Segments": t_int, "LoadableSegments": t_int, "LoadSize": t_int,
                    "LoadMinAddress": t_int, "LoadMaxAddress": t_int, "ResourceTable": t_bool,
                    "BuildId": t_str_or_null})
    elif verb == "monitor":
        props = interface_properties(args.xml_dir, "org.rprocd1.Core")
        if not isinstance(doc, dict):
            return fail(where, "an object expected")
        if doc.get("Event") == "changed":
            check_keys(where, doc, {"Core": t_str, "Event": t_str,
                                    "Changed": lambda w, v: check_props(w, v, props, False)})
        else:
            check_keys(where, doc, {"Core": t_str, "Event": lambda w, v: v in (
                "added", "removed") or fail(w, f"event {v!r}")})
    elif verb == "logs":
        check_keys(where, doc, {"Core": t_str, "Timestamp": t_int, "Message": t_str})
    else:
        raise SystemExit(f"unknown verb {verb}")


def documents(text):
    """The JSON documents of text, one after another, with the text of each."""
    dec = json.JSONDecoder()
    i, out = 0, []
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i == len(text):
            return out
        doc, end = dec.raw_decode(text, i)
        out.append((doc, text[i:end]))
        i = end


def check_file(args):
    text = open(args.file, encoding="utf-8").read()
    try:
        docs = documents(text)
    except json.JSONDecodeError as e:
        fail(args.verb, f"not JSON: {e}\n{text}")
        return
    streams = args.verb in ("monitor", "logs")
    if not streams and len(docs) != 1:
        fail(args.verb, f"one document expected, got {len(docs)}")
    for k, (doc, raw) in enumerate(docs):
        where = f"{args.verb}#{k}" if streams else args.verb
        check_document(args.verb, doc, args, where)
        if args.mode == "short":
            want = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        elif args.mode == "pretty":
            want = json.dumps(doc, ensure_ascii=False, indent=2)
        else:
            want = raw
        if raw != want:
            fail(where, f"not laid out as --json={args.mode}:\n{raw}\nexpected:\n{want}")
    if args.mode and not text.endswith("\n") and text:
        fail(args.verb, "no newline at the end")
    if args.mode == "short" and text.count("\n") != len(docs):
        fail(args.verb, f"{len(docs)} documents on {text.count(chr(10))} lines")
    if args.expect_n is not None:
        n = len(docs) if streams else len(docs[0][0]) if docs else 0
        if n != args.expect_n:
            fail(args.verb, f"{args.expect_n} expected, got {n}")


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("short", "pretty"))
    ap.add_argument("--xml-dir", default=os.path.join(os.path.dirname(__file__), "../../systemd"))
    ap.add_argument("--partial", action="store_true", help="show -p: not every property")
    ap.add_argument("--expect-n", type=int, help="the number of documents (or of elements of "
                    "the one document)")
    ap.add_argument("--batch", help="a file of checks, one per line")
    ap.add_argument("verb", nargs="?")
    ap.add_argument("file", nargs="?")
    return ap


def main():
    args = parser().parse_args()
    if args.batch:
        for line in open(args.batch, encoding="utf-8"):
            if line.strip():
                one = parser().parse_args(["--xml-dir", args.xml_dir] + line.split())
                n = len(errors)
                check_file(one)
                if len(errors) > n:
                    errors.insert(n, f"--- {line.strip()}")
    else:
        if not args.verb or not args.file:
            parser().error("VERB and FILE, or --batch")
        check_file(args)
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
