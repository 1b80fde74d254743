#!/usr/bin/python3
"""Converts Debian package stanzas (`apt-cache dumpavail`) to JSON lines for `ember DB import`.

Each package becomes {"id": Package, "text": "Package: Description", "attributes": {"section",
"priority", "installed_size"}}: the description is the short line followed by the long one (when
the stanza has it), its lines joined by spaces. installed_size is Installed-Size in KiB (an int);
attributes a stanza lacks are left out. A package listed more than once (several versions or
architectures) keeps its first stanza. Standard library only.

The lines carry no vectors: imported into a collection created with --model, the database embeds
each text.

Usage: apt-cache dumpavail | scripts/debian-packages-jsonl.py > packages.jsonl
"""
import json
import sys


def stanzas(lines):
    """Yields each stanza as a dict of field -> value (continuation lines kept, one per line)."""
    fields = {}
    name = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if fields:
                yield fields
            fields, name = {}, None
        elif line[0] in " \t":
            if name is not None:
                fields[name] += "\n" + line[1:]
        elif ":" in line:
            name, value = line.split(":", 1)
            fields[name] = value.strip()
    if fields:
        yield fields


def description(value):
    """The short description and the long one's paragraphs as one line (" ." marks a blank line)."""
    parts = [part.strip() for part in value.split("\n")]
    return " ".join(part for part in parts if part and part != ".")


def main():
    seen = set()
    written = 0
    for fields in stanzas(sys.stdin):
        package = fields.get("Package")
        if not package or package in seen:
            continue
        seen.add(package)
        attributes = {}
        for field, name in (("Section", "section"), ("Priority", "priority")):
            if fields.get(field):
                attributes[name] = fields[field]
        size = fields.get("Installed-Size", "")
        if size.isdigit():
            attributes["installed_size"] = int(size)
        text = package
        if fields.get("Description"):
            text += ": " + description(fields["Description"])
        print(json.dumps({"id": package, "text": text, "attributes": attributes},
                         ensure_ascii=False))
        written += 1
    print(f"debian-packages-jsonl: {written} packages", file=sys.stderr)


if __name__ == "__main__":
    main()
