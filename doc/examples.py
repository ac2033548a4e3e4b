#!/usr/bin/env python3
"""Run the examples in doc/*.md and check (or rewrite) their shown output.

An example is a ```sql block followed directly by a ```text block: the SQL
is run with psql and the text block must be psql's exact output (query
results, command tags, notices and errors, in order).  A ```sql block with
no ```text block after it (a signature, for instance) is not run.

Each page runs in one psql session on a fresh database with the extension
created, so later examples on a page see the tables made by earlier ones.

    python3 doc/examples.py            # check every page, exit 1 on a difference
    python3 doc/examples.py --update   # rewrite the text blocks with real output
    python3 doc/examples.py kmeans.md  # only some pages

psql is called as $PSQL (default "psql -X"); connect with the usual PG*
environment variables (PGPORT, PGUSER, PGHOST).  Creating the extension
needs a superuser.
"""
import difflib
import os
import re
import shlex
import subprocess
import sys

DOC = os.path.dirname(os.path.abspath(__file__))
DB = "uba_doc_examples"
MARK = "@@uba-doc-example@@"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def examples(text):
    """(sql, text output match) for each ```sql block directly followed by a ```text block"""
    blocks = list(FENCE.finditer(text))
    return [(a.group(2), b) for a, b in zip(blocks, blocks[1:])
            if a.group(1) == "sql" and b.group(1) == "text"
            and text[a.end():b.start()].strip() == ""]


def psql(db, script):
    cmd = shlex.split(os.environ.get("PSQL", "psql -X")) + ["-d", db]
    run = subprocess.run(cmd, input=script, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    return run.stdout


def run_page(sqls):
    psql("postgres", f"DROP DATABASE IF EXISTS {DB};\nCREATE DATABASE {DB};\n")
    script = "CREATE EXTENSION uba;\n"
    for s in sqls:
        script += f"\\echo {MARK}\n{s}"
    out = psql(DB, script)
    psql("postgres", f"DROP DATABASE IF EXISTS {DB};\n")
    # trailing blank lines (psql ends every result with one) are dropped
    chunks = [c.rstrip("\n") + "\n" for c in out.split(MARK + "\n")[1:]]
    if len(chunks) != len(sqls):
        sys.exit(f"expected {len(sqls)} outputs, got {len(chunks)}:\n{out}")
    return chunks


def main():
    args = sys.argv[1:]
    update = "--update" in args
    pages = [a for a in args if a != "--update"] or sorted(
        f for f in os.listdir(DOC) if f.endswith(".md"))
    failed = False
    for page in pages:
        path = os.path.join(DOC, os.path.basename(page))
        text = open(path).read()
        pairs = examples(text)
        if not pairs:
            continue
        outs = run_page([sql for sql, _ in pairs])
        new, pos = [], 0
        for (_, m), out in zip(pairs, outs):
            if out != m.group(2):
                failed = True
                if not update:
                    sys.stdout.writelines(difflib.unified_diff(
                        m.group(2).splitlines(True), out.splitlines(True),
                        f"{page} (shown)", f"{page} (real)"))
            new.append(text[pos:m.start(2)] + out)
            pos = m.end(2)
        new.append(text[pos:])
        if update:
            open(path, "w").write("".join(new))
        print(f"{page}: {len(pairs)} examples")
    if failed and not update:
        sys.exit(1)


if __name__ == "__main__":
    main()
