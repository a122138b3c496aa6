#!/usr/bin/env python3
"""A CGI origin whose answer the cache tests control: headers from the query string, behaviour
from files in CGI_STATE (fail-TAG: answer 503; sleep-TAG: wait that many seconds first), and a
count of its runs per tag in CGI_STATE/count-TAG."""
import os
import sys
import time
import urllib.parse

q = dict(urllib.parse.parse_qsl(os.environ.get("QUERY_STRING", ""), keep_blank_values=True))
state = os.environ["CGI_STATE"]
tag = q.get("tag", "default")
with open(os.path.join(state, "count-" + tag), "a") as f:
    f.write("x")
with open(os.path.join(state, "count-" + tag)) as f:
    run = len(f.read())
sleep_file = os.path.join(state, "sleep-" + tag)
if os.path.exists(sleep_file):
    with open(sleep_file) as f:
        time.sleep(float(f.read() or "0.5"))
    with open(os.path.join(state, "slept-" + tag), "w") as f:
        f.write("done")
if os.path.exists(os.path.join(state, "fail-" + tag)):
    sys.stdout.write("Status: 503 Down\r\nContent-Type: text/plain\r\n\r\ndown\n")
    sys.exit(0)
etag = q.get("etag")
if etag and "honor304" in q and os.environ.get("HTTP_IF_NONE_MATCH") == '"%s"' % etag:
    head = ["Status: 304 Not Modified", 'ETag: "%s"' % etag, "X-Revalidated: run %d" % run]
    if "cc304" in q:
        head.append("Cache-Control: " + q["cc304"])
    sys.stdout.write("\r\n".join(head) + "\r\n\r\n")
    sys.exit(0)
head = ["Content-Type: " + ("text/html" if "ssi" in q else "text/plain"), "X-Run: %d" % run]
for name, field in (("status", "Status"), ("cc", "Cache-Control"), ("vary", "Vary"),
                    ("expires", "Expires"), ("lm", "Last-Modified")):
    if name in q:
        head.append("%s: %s" % (field, q[name]))
if etag:
    head.append('ETag: "%s"' % etag)
if "cookie" in q:
    head.append("Set-Cookie: session=secret")
if "size" in q:
    body = ("%s-run-%d\n" % (tag, run)).ljust(int(q["size"]), "x")
elif "ssi" in q:
    body = "<p>%s run %d for port <!--#echo var=\"REMOTE_PORT\" --></p>\n" % (tag, run)
else:
    body = "%s run %d lang=%s\n" % (tag, run, os.environ.get("HTTP_ACCEPT_LANGUAGE", ""))
sys.stdout.write("\r\n".join(head) + "\r\n\r\n")
sys.stdout.flush()
sys.stdout.write(body)
