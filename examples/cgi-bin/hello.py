#!/usr/bin/env python3
"""A CGI script whose output carries server-side includes. The SSI filter, enabled on /cgi-bin,
expands them on the way out: the footer is a page of the site, fetched through the router."""

import html
import os

name = html.escape(os.environ.get("QUERY_STRING", "").replace("+", " ") or "world")
print("Content-Type: text/html; charset=utf-8")
print()
print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Hello from CGI</title></head>
<body>
<h1>Hello, {name}!</h1>
<p>Printed by examples/cgi-bin/hello.py for a {html.escape(os.environ["SERVER_PROTOCOL"])} request.</p>
<!--#set var="made_by" value="hello.py" -->
<p>Expanded by the SSI filter: made by <!--#echo var="made_by" --> for
<!--#echo var="REMOTE_ADDR" -->, on <!--#echo var="DATE_GMT" -->.</p>
<!--#include virtual="/footer.html" -->
</body></html>""")
