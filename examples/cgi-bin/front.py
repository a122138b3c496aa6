#!/usr/bin/env python3
"""The front controller of /app-front/: TryFiles in examples/collage.xml sends it every path
there that is not a file, as PHP frameworks route every URL to index.php. The address the
client asked for is REQUEST_URI; the route TryFiles passes is in the query."""

import html
import os
import urllib.parse

query = urllib.parse.parse_qs(os.environ.get("QUERY_STRING", ""))
route = query.get("path", ["/"])[0]
print("Content-Type: text/html; charset=utf-8")
print()
print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Front controller</title>
<link rel="stylesheet" href="/app-front/app.css"></head>
<body>
<h1>Route {html.escape(route)}</h1>
<p>examples/cgi-bin/front.py answered {html.escape(os.environ.get("REQUEST_METHOD", ""))}
{html.escape(os.environ.get("REQUEST_URI", ""))}: no file has that name, so TryFiles sent it
here.</p>
</body></html>""")
