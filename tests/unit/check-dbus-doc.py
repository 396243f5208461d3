#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""org.rprocd1(5) against the interface files: every method (with its
signature) and property (with its type) of systemd/org.rprocd1.*.xml is
documented in its interface's section, and nothing else is documented as a
member. Usage: check-dbus-doc.py MANPAGE MANAGER.xml CORE.xml"""
import re
import sys
import xml.etree.ElementTree as ET


def members(path, iface):
    out = set()
    for i in ET.parse(path).getroot().iter("interface"):
        if i.get("name") != iface:
            continue
        for c in i:
            if c.tag == "method":
                ins = "".join(a.get("type") for a in c.iter("arg") if (a.get("direction") or "in") == "in")
                outs = "".join(a.get("type") for a in c.iter("arg") if a.get("direction") == "out")
                out.add(("method", c.get("name"), ins, outs))
            elif c.tag == "property":
                out.add(("property", c.get("name"), c.get("type"), ""))
            elif c.tag == "signal":
                out.add(("signal", c.get("name"), "", ""))
    if not out:
        sys.exit(f"{path}: no interface {iface}")
    return out


def documented(man):
    """Members per section: ".B Name(SIG) [\\(-> OUT]" and ".B Name (TYPE)" after a .TP."""
    sections = {}
    section = None
    lines = open(man).read().splitlines()
    for prev, line in zip([""] + lines, lines):
        if line.startswith(".SH "):
            section = line[4:].strip()
            sections.setdefault(section, set())
            continue
        if prev != ".TP" or not line.startswith(".B ") or section not in ("THE MANAGER OBJECT", "THE CORE OBJECTS"):
            continue
        text = line[3:].strip()
        m = re.fullmatch(r"([A-Za-z]+)\(([a-z()]*)\)(?: \\\(-> ([a-z(){}]+))?", text)
        if m:
            sections[section].add(("method", m.group(1), m.group(2), m.group(3) or ""))
            continue
        m = re.fullmatch(r"([A-Za-z]+) \(([a-z(){}]+)\)", text)
        if m:
            sections[section].add(("property", m.group(1), m.group(2), ""))
            continue
        sys.exit(f"{man}: cannot read the member line {line!r}")
    return sections


def main():
    man, manager_xml, core_xml = sys.argv[1:4]
    doc = documented(man)
    failed = False
    for section, path, iface in (("THE MANAGER OBJECT", manager_xml, "org.rprocd1.Manager"),
                                 ("THE CORE OBJECTS", core_xml, "org.rprocd1.Core")):
        want, have = members(path, iface), doc.get(section, set())
        for m in sorted(want - have):
            print(f"{man}: {iface} {m[0]} {m[1]} ({m[2]}{' -> ' + m[3] if m[3] else ''}) is not documented")
            failed = True
        for m in sorted(have - want):
            print(f"{man}: documents {m[0]} {m[1]} ({m[2]}) which {iface} does not have (as such)")
            failed = True
        print(f"{iface}: {len(want)} members, {len(want & have)} documented")
    sys.exit(1 if failed else 0)


main()
