/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * MESSAGE_IDs of rprocd's journal entries. Each has an entry in
 * systemd/rprocd.catalog; `journalctl MESSAGE_ID=…` finds the events.
 */
#define MESSAGE_CORE_BOOTED	     "0889c47d424f429aa7f40a91eda70567"
#define MESSAGE_CORE_ATTACHED	     "6ddcbfec37984bc081c08e9687b6d5a6"
#define MESSAGE_CORE_ADOPTED	     "f4ab2b71756241e39ffb1219cb03a61d"
#define MESSAGE_CORE_DETACHED	     "3ff31ad938494893b21506b6765eb329"
#define MESSAGE_CORE_STOPPED	     "f26884dd39574a68866848b0e18ca835"
#define MESSAGE_CORE_CRASHED	     "2ef4e2ee13b24caea5078170e1901136"
#define MESSAGE_CORE_RECOVERED	     "786eaa71ff9d47daac793a479f2fc6fe"
#define MESSAGE_CORE_FAILED	     "6a4cb521ca0c471881998b7d606eaf8f"
#define MESSAGE_CORE_START_LIMIT_HIT "2f710f74d48d4501be9f6416eb0a39f3"
#define MESSAGE_CONFIG_ERROR	     "d0c15d214a1942c39f89e88f424a0608"
#define MESSAGE_CORE_WEDGED	     "f81c4dd05526453aaad724b613041b0e"
#define MESSAGE_CORE_FALLBACK	     "2d05206bb3c04d7e9f5e8835cecdf747"
#define MESSAGE_CORE_COREDUMP	     "3a815a5514254b3c8b804ce4e41c4175"
#define MESSAGE_CORE_READY	     "344de4f9e86f456485c9bab813a95e0b"
#define MESSAGE_CORE_NOT_READY	     "27ec9851e5b44d08b9d5d330a01afcb8"
