#!/usr/bin/env python3
"""A CGI script whose answer may be reused for 10 seconds: the cache on /cgi-bin keeps it, so
within that time every client (over HTTP, HTTP/2 or Gopher) gets the same page, made once."""

import time

print("Content-Type: text/plain; charset=utf-8")
print("Cache-Control: max-age=10")
print()
print("made at " + time.strftime("%H:%M:%S", time.gmtime()) + " UTC by examples/cgi-bin/clock.py")
