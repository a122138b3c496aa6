#!/usr/bin/env python3
"""A gopher search (type 7): the words arrive as QUERY_STRING (and as arguments), the answer is
a gopher menu of the files of the hole and the web site whose name or text holds every word.
The same script answers over HTTP, where the gopher-html filter shows the menu as a page."""

import os
import sys
import urllib.parse

words = [w.lower() for w in sys.argv[1:]] or \
    urllib.parse.unquote_plus(os.environ.get("QUERY_STRING", "")).lower().split()
host = os.environ.get("SERVER_NAME", "localhost")
port = os.environ.get("SERVER_PORT", "70")
# The trees beside this script (examples/gopherhole, examples/site), unless the configuration
# names others (absolute paths, with CgiSetEnv).
here = os.path.dirname(os.path.abspath(__file__))
trees = [(os.environ.get("GOPHER_ROOT") or os.path.join(here, "..", "gopherhole"), ""),
         (os.environ.get("SITE_ROOT") or os.path.join(here, "..", "site"), "/site")]

print("Content-Type: text/x-gopher-menu")
print()
print("iSearch results for: %s\tfake\t(NULL)\t0" % " ".join(words))
found = 0
for root, prefix in trees:
    if not root or not words:
        continue
    for directory, _, files in os.walk(root):
        for name in sorted(files):
            if name == "gophermap":
                continue
            path = os.path.join(directory, name)
            try:
                with open(path, errors="replace") as f:
                    text = (name + " " + f.read(200000)).lower()
            except OSError:
                continue
            if all(word in text for word in words):
                selector = prefix + "/" + os.path.relpath(path, root)
                kind = "h" if name.endswith(".html") else "0"
                print("%s%s\t%s\t%s\t%s" % (kind, selector.lstrip("/"), selector, host, port))
                found += 1
if found == 0:
    print("iNothing matched.\tfake\t(NULL)\t0")
