#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails when a Qt Linguist catalogue has a message left unfinished or a plural form empty."""
import sys
import xml.etree.ElementTree as ET

problems = 0
for path in sys.argv[1:]:
    for context in ET.parse(path).getroot().iter("context"):
        for message in context.iter("message"):
            source = message.findtext("source")
            translation = message.find("translation")
            forms = translation.findall("numerusform")
            empty = any(not (f.text or "").strip() for f in forms) if forms else not (translation.text or "").strip()
            if translation.get("type") in ("unfinished", "vanished", "obsolete") or empty:
                print(f"{path}: {context.findtext('name')}: not translated: {source!r}")
                problems += 1
print(f"{len(sys.argv) - 1} catalogues, {problems} untranslated")
sys.exit(1 if problems else 0)
