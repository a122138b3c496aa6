"""Site directives against the real binary, each over HTTP/1.1 and HTTP/2 (curl): redirects with
the rest of the path and the query kept, HTTP -> HTTPS, rewrite rules with every kind of
condition, internal rewrites into another store (CGI), rewrite loops and backtracking-prone
patterns against hostile paths (500 with a log line, the server unhurt), try-files with a
front-controller script, =CODE and named locations, Alias, error documents (a page with the
status kept, text, a redirect; a store's own body left alone; Gopher untouched), response and
request headers, HSTS, CORS and expiry (seen by the built-in cache); --explain naming the rules;
bad rules refused at load with file:line."""

import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (BINARY, CollageServer, free_port, make_certificate,  # noqa: E402
                            recv_until_closed, wait_for)

PROTOCOLS = ("h1", "h2")

FRONT_SCRIPT = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "uri=$REQUEST_URI"
echo "query=$QUERY_STRING"
echo "method=$REQUEST_METHOD"
echo "from_config=$HTTP_X_FROM_CONFIG"
echo "secret=$HTTP_X_SECRET"
if [ -n "$CONTENT_LENGTH" ]; then echo "body=$(head -c "$CONTENT_LENGTH")"; fi
"""

OWN_404_SCRIPT = """#!/bin/sh
printf 'Status: 404 Not Found\\r\\nContent-Type: text/plain\\r\\n\\r\\nthe script says: not here\\n'
"""

LIFETIME_SCRIPT = """#!/bin/sh
printf 'Cache-Control: max-age=5\\r\\nContent-Type: text/plain\\r\\n\\r\\nfive seconds\\n'
"""

CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="http1" address="127.0.0.1" port="{tls_port}" tls="on"/>
<Listen protocol="gopher" address="127.0.0.1" port="0" host="localhost"/>
<TLSCertificateFile>{cert}</TLSCertificateFile>
<TLSCertificateKeyFile>{key}</TLSCertificateKeyFile>
<LogLevel>info</LogLevel>
<CacheMemoryDirectory>{dir}/cache-memory</CacheMemoryDirectory>
<VirtualHost name="localhost">
  <ServerAlias>127.0.0.1</ServerAlias>
  <ServerAlias>www.example.test</ServerAlias>
  <DocumentRoot>{dir}/site</DocumentRoot>
  <ErrorDocument>404 /errors/404.html</ErrorDocument>
  <ErrorDocument>403 "no entry here"</ErrorDocument>
  <ErrorDocument>410 https://example.org/gone</ErrorDocument>
  <ErrorDocument>500 /errors/missing.html</ErrorDocument>
  <StrictTransportSecurity>max-age=31536000; includeSubDomains</StrictTransportSecurity>
  <Header>set X-Frame-Options DENY</Header>
  <Header>always set X-Served-By collage-test</Header>
  <Header>append Cache-Control no-transform</Header>
  <ExpiresByType>text/css 7d</ExpiresByType>
  <ExpiresByType>image/* 30d</ExpiresByType>
  <ExpiresDefault>1h</ExpiresDefault>

  <!-- Route rules sit in their own locations: the rest of the host keeps the quick path. -->
  <Location path="/old-docs">
    <Redirect>301 /old-docs /docs</Redirect>
  </Location>
  <Location path="/removed">
    <Redirect>gone /removed</Redirect>
  </Location>
  <Location path="/v1">
    <RedirectMatch>308 ^/v1/(\\w+)/(\\d+)$ /v2/$2/$1</RedirectMatch>
  </Location>
  <Location path="/https-only">
    <RedirectToHttps>{tls_port}</RedirectToHttps>
  </Location>
  <Location path="/r">
    <RewriteRule>^/r/item/(\\d+)$ /item.html?id=$1 [L]</RewriteRule>
    <RewriteRule>^/r/host$ /docs/index.html [L]
      if %{{HTTP_HOST}} ^www\\.example\\.test(:\\d+)?$ [NC]</RewriteRule>
    <RewriteRule>^/r/header$ /docs/index.html [L] if %{{HTTP:X-Beta}} =yes</RewriteRule>
    <RewriteRule>^/r/query$ /docs/index.html [L]
      if %{{QUERY_STRING}} (^|&amp;)beta=1(&amp;|$)</RewriteRule>
    <RewriteRule>^/r/inside$ /docs/index.html [L]
      if %{{REMOTE_ADDR}} -ip=127.0.0.0/8,::1</RewriteRule>
    <RewriteRule>^/r/outside$ /docs/index.html [L] if %{{REMOTE_ADDR}} -ip=10.0.0.0/8</RewriteRule>
    <RewriteRule>^/r/exists/(.*)$ /docs/$1 [L] if /docs/$1 -f</RewriteRule>
    <RewriteRule>^/r/forbidden - [F]</RewriteRule>
    <RewriteRule>^/r/to-cgi/(.*)$ /cgi-bin/front.sh?via=rewrite [QSA,L]</RewriteRule>
    <RewriteRule>^/r/away/(.*)$ https://example.org/$1 [R=302]</RewriteRule>
    <RewriteRule>^/r/loop(.*)$ /r/loop$1x</RewriteRule>
    <RewriteRule>^/r/slow/(a+)+$ /docs/index.html</RewriteRule>
  </Location>
  <Location path="/app">
    <TryFiles>$uri $uri/ /cgi-bin/front.sh?path=$uri&amp;$args</TryFiles>
  </Location>
  <Location path="/strict">
    <TryFiles>$uri =404</TryFiles>
  </Location>
  <Location path="/named">
    <TryFiles>$uri @other</TryFiles>
  </Location>
  <Location path="@other">
    <DocumentRoot>{dir}/other</DocumentRoot>
  </Location>
  <Location path="/static">
    <Alias>{dir}/assets</Alias>
  </Location>
  <Location path="/cgi-bin">
    <Store>cgi</Store>
    <CgiRoot>{dir}/cgi-bin</CgiRoot>
    <RequestHeader>set X-From-Config yes</RequestHeader>
    <RequestHeader>unset X-Secret</RequestHeader>
  </Location>
  <Location path="/api">
    <CorsAllowOrigins>https://app.example</CorsAllowOrigins>
    <CorsAllowMethods>GET POST PUT</CorsAllowMethods>
    <CorsAllowHeaders>Content-Type X-Token</CorsAllowHeaders>
    <CorsExposeHeaders>X-Served-By</CorsExposeHeaders>
    <CorsMaxAge>10m</CorsMaxAge>
  </Location>
  <Location path="/cached">
    <Cache>on</Cache>
    <ExpiresByType>text/css 0s</ExpiresByType>
  </Location>
  <Location path="/rq">
    <Cache>on</Cache>
    <RewriteRule>^/rq/page\\.txt$ /docs/index.html [L] if %{{HTTP:X-Beta}} =yes</RewriteRule>
  </Location>
  <Location path="/cached-cgi">
    <Store>cgi</Store>
    <CgiRoot>{dir}/cgi-bin</CgiRoot>
    <Cache>on</Cache>
  </Location>
</VirtualHost>
<!-- No site rules: the quick path may answer here (the control for the test that it does not
     where rules are). -->
<VirtualHost name="plain">
  <DocumentRoot>{dir}/site</DocumentRoot>
  <Cache>on</Cache>
</VirtualHost>
"""

FILES = {
    "site/docs/index.html": "docs index\n",
    "site/docs/a b.html": "A B doc\n",
    "site/item.html": "the item page\n",
    "site/errors/404.html": "<h1>our own 404</h1>\n",
    "site/app/static.css": "body{}\n",
    "site/app/sub/index.html": "app sub index\n",
    "site/https-only/index.html": "secure only\n",
    "site/api/data.json": "{\"a\": 1}\n",
    "site/rq/page.txt": "rq page\n",
    "site/cached/long-h1.txt": "kept an hour\n",
    "site/cached/long-h2.txt": "kept an hour\n",
    "site/cached/now-h1.css": "stale at once\n",
    "site/cached/now-h2.css": "stale at once\n",
    "other/named/fallback.txt": "from the named location\n",
    "assets/asset.txt": "an aliased asset\n",
}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased name -> list of values
        self.body = body

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[-1] if values else None


class SiteDirectivesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="collage-site-")
        for name, text in FILES.items():
            path = os.path.join(cls.workdir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        scripts = os.path.join(cls.workdir, "cgi-bin")
        os.makedirs(scripts)
        for name, text in (("front.sh", FRONT_SCRIPT), ("own404.sh", OWN_404_SCRIPT),
                           ("lifetime.sh", LIFETIME_SCRIPT)):
            with open(os.path.join(scripts, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(scripts, name), 0o755)
        cls.cert, key = make_certificate(cls.workdir)
        cls.tls_port = free_port()
        cls.config = CONFIG.format(dir=cls.workdir, cert=cls.cert, key=key, tls_port=cls.tls_port)
        cls.server = CollageServer(cls.config, workdir=cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        self.assertTrue(self.server.alive(), self.server.log())

    def fetch(self, path, protocol="h1", method="GET", headers=(), data=None, tls=False):
        """One request with curl; the last response's status, headers and body."""
        head = os.path.join(self.workdir, "head.txt")
        body = os.path.join(self.workdir, "body.bin")
        if tls:
            url = "https://localhost:%d%s" % (self.tls_port, path)
        else:
            url = "http://127.0.0.1:%d%s" % (self.server.port, path)
        args = ["curl", "-sS", "-g", "--path-as-is", "--max-time", "20", "-D", head, "-o", body,
                "-X", method]
        if method == "HEAD":
            args = [a for a in args if a not in ("-X", "HEAD")] + ["-I"]
        if tls:
            args += ["--cacert", self.cert, "--resolve", "localhost:%d:127.0.0.1" % self.tls_port]
            args += ["--http2"] if protocol == "h2" else ["--http1.1"]
        else:
            args += ["--http2-prior-knowledge"] if protocol == "h2" else ["--http1.1"]
        for header in headers:
            args += ["-H", header]
        if data is not None:
            args += ["--data-binary", data]
        subprocess.run(args + [url], check=True, capture_output=True)
        with open(head, "rb") as f:
            blocks = [b for b in f.read().decode("latin-1").split("\r\n\r\n") if b.strip()]
        lines = blocks[-1].split("\r\n")
        status = int(lines[0].split()[1])
        parsed = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            parsed.setdefault(name.strip().lower(), []).append(value.strip())
        with open(body, "rb") as f:
            content = f.read() if method != "HEAD" else b""
        return Response(status, parsed, content)

    def gopher(self, selector):
        with socket.create_connection(("127.0.0.1", self.server.ports["gopher"]), 5) as s:
            s.sendall(selector + b"\r\n")
            return recv_until_closed(s)

    # Redirects

    def test_redirect_keeps_the_rest_of_the_path_and_the_query(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/old-docs/a%20b.html?x=1&y=2", p)
                self.assertEqual(r.status, 301)
                self.assertEqual(r.header("location"), "/docs/a%20b.html?x=1&y=2")
                self.assertIn(b"/docs/a%20b.html?x=1&amp;y=2", r.body)
                self.assertEqual(self.fetch(r.header("location"), p).body, b"A B doc\n")
                self.assertEqual(self.fetch("/old-docs", p).header("location"), "/docs")
                # Whole segments only: /old-docsX is not under /old-docs.
                self.assertEqual(self.fetch("/old-docsX", p).status, 404)

    def test_redirect_match_uses_the_groups(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/v1/users/42?a=1", p)
                self.assertEqual((r.status, r.header("location")), (308, "/v2/42/users?a=1"))
                self.assertEqual(self.fetch("/v1/users/x", p).status, 404)

    def test_gone_with_an_error_document_that_redirects(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/removed/thing", p)
                self.assertEqual((r.status, r.header("location")), (302, "https://example.org/gone"))

    def test_http_goes_to_https_and_only_https_answers_carry_hsts(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/https-only/page?q=1", p)
                self.assertEqual(r.status, 301)
                self.assertEqual(r.header("location"),
                                 "https://127.0.0.1:%d/https-only/page?q=1" % self.tls_port)
                self.assertIsNone(r.header("strict-transport-security"))
                self.assertEqual(self.fetch("/https-only/form", p, method="POST", data="a=1").status,
                                 308)
                secure = self.fetch("/https-only/", p, tls=True)
                self.assertEqual((secure.status, secure.body), (200, b"secure only\n"))
                self.assertEqual(secure.header("strict-transport-security"),
                                 "max-age=31536000; includeSubDomains")
                self.assertIsNone(self.fetch("/docs/", p).header("strict-transport-security"))

    # Rewrites

    def test_internal_rewrite_routes_again(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/r/item/42", p)
                self.assertEqual((r.status, r.body), (200, b"the item page\n"))
                self.assertIsNone(r.header("location"))

    def test_each_kind_of_condition(self):
        docs = b"docs index\n"
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                self.assertEqual(self.fetch("/r/host", p, headers=["Host: www.example.test"]).body,
                                 docs)
                self.assertEqual(self.fetch("/r/host", p).status, 404)
                self.assertEqual(self.fetch("/r/header", p, headers=["X-Beta: yes"]).body, docs)
                self.assertEqual(self.fetch("/r/header", p, headers=["X-Beta: no"]).status, 404)
                self.assertEqual(self.fetch("/r/query?z=2&beta=1", p).body, docs)
                self.assertEqual(self.fetch("/r/query?beta=10", p).status, 404)
                self.assertEqual(self.fetch("/r/inside", p).body, docs)
                self.assertEqual(self.fetch("/r/outside", p).status, 404)
                self.assertEqual(self.fetch("/r/exists/index.html", p).body, docs)
                self.assertEqual(self.fetch("/r/exists/nothing.html", p).status, 404)

    def test_forbidden_flag_and_a_text_error_document(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/r/forbidden", p)
                self.assertEqual((r.status, r.body), (403, b"no entry here"))
                self.assertEqual(r.header("x-served-by"), "collage-test")  # always
                self.assertIsNone(r.header("x-frame-options"))  # not on an error without always

    def test_rewrite_into_a_script_keeps_what_the_client_sent(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/r/to-cgi/x?keep=1", p)
                self.assertEqual(r.status, 200)
                self.assertIn(b"uri=/r/to-cgi/x?keep=1\n", r.body)
                self.assertIn(b"query=via=rewrite&keep=1\n", r.body)

    def test_external_rewrite_is_a_redirect(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/r/away/p/q?z=1", p)
                self.assertEqual((r.status, r.header("location")), (302, "https://example.org/p/q?z=1"))

    def test_a_rewrite_loop_is_cut_with_500_and_a_log_line(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                before = self.server.log().count("COL-CORE-0011")
                r = self.fetch("/r/loop", p)
                self.assertEqual(r.status, 500)
                wait_for(lambda: self.server.log().count("COL-CORE-0011") > before, 5,
                         "the rewrite loop's log line")
                # The 500 page named in ErrorDocument does not exist: the server's own page, logged.
                self.assertIn(b"500", r.body)
                wait_for(lambda: "COL-ERRDOC-0001" in self.server.log(), 5, "the missing page's line")
                self.assertEqual(self.fetch("/docs/", p).status, 200)

    def test_a_backtracking_pattern_against_hostile_paths(self):
        hostile = "/r/slow/" + "a" * 5000 + "!"
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                for _ in range(20):
                    self.assertEqual(self.fetch(hostile, p).status, 500)
                self.assertIn("COL-REWRITE-0001", self.server.log())
                # The same rule still does its work on a path it can decide.
                self.assertEqual(self.fetch("/r/slow/aaaa", p).body, b"docs index\n")

    def test_gopher_follows_internal_rewrites(self):
        data = self.gopher(b"/r/item/7")
        self.assertIn(b"the item page", data)

    # Try-files, named locations, Alias

    def test_try_files_serves_what_exists_and_sends_the_rest_to_the_script(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                css = self.fetch("/app/static.css", p)
                self.assertEqual((css.status, css.body), (200, b"body{}\n"))
                self.assertEqual(css.header("cache-control"), "max-age=604800, no-transform")
                self.assertEqual(self.fetch("/app/sub/", p).body, b"app sub index\n")
                front = self.fetch("/app/no/such/page?x=1", p)
                self.assertEqual(front.status, 200)
                self.assertIn(b"uri=/app/no/such/page?x=1\n", front.body)
                self.assertIn(b"query=path=/app/no/such/page&x=1\n", front.body)
                posted = self.fetch("/app/form", p, method="POST", data="a=1&b=2")
                self.assertIn(b"method=POST\n", posted.body)
                self.assertIn(b"body=a=1&b=2\n", posted.body)

    def test_try_files_code_and_named_fallbacks(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/strict/missing", p)
                self.assertEqual((r.status, r.body), (404, b"<h1>our own 404</h1>\n"))
                self.assertEqual(self.fetch("/named/fallback.txt", p).body,
                                 b"from the named location\n")
                self.assertEqual(self.fetch("/named/nope", p).status, 404)

    def test_alias_maps_the_prefix_onto_another_directory(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                self.assertEqual(self.fetch("/static/asset.txt", p).body, b"an aliased asset\n")
                self.assertEqual(self.fetch("/static/../item.html", p).body, b"the item page\n")
                self.assertEqual(self.fetch("/static/static/asset.txt", p).status, 404)

    # Error documents

    def test_the_sites_404_page_keeps_the_status(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/missing", p)
                self.assertEqual((r.status, r.body), (404, b"<h1>our own 404</h1>\n"))
                self.assertTrue(r.header("content-type").startswith("text/html"))
                self.assertIsNone(r.header("etag"))
                head = self.fetch("/missing", p, method="HEAD")
                self.assertEqual(head.status, 404)
                self.assertEqual(head.header("content-length"), str(len("<h1>our own 404</h1>\n")))

    def test_a_stores_own_error_body_is_left_alone(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/cgi-bin/own404.sh", p)
                self.assertEqual((r.status, r.body), (404, b"the script says: not here\n"))

    def test_gopher_keeps_its_own_error_reply(self):
        data = self.gopher(b"/missing")
        self.assertTrue(data.startswith(b"3"), data)
        self.assertNotIn(b"our own 404", data)

    # Headers, CORS, expiry

    def test_response_headers_by_status(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                ok = self.fetch("/docs/index.html", p)
                self.assertEqual(ok.header("x-frame-options"), "DENY")
                self.assertEqual(ok.header("x-served-by"), "collage-test")
                self.assertEqual(ok.header("cache-control"), "max-age=3600, no-transform")
                self.assertIsNotNone(ok.header("expires"))
                missing = self.fetch("/missing", p)
                self.assertIsNone(missing.header("x-frame-options"))
                self.assertEqual(missing.header("x-served-by"), "collage-test")

    def test_request_headers_reach_the_script(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/cgi-bin/front.sh", p, headers=["X-Secret: s3cret"])
                self.assertIn(b"from_config=yes\n", r.body)
                self.assertIn(b"secret=\n", r.body)

    def test_cors_preflight_and_actual_requests(self):
        origin = "Origin: https://app.example"
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                pre = self.fetch("/api/data.json", p, method="OPTIONS",
                                 headers=[origin, "Access-Control-Request-Method: PUT",
                                          "Access-Control-Request-Headers: X-Token"])
                self.assertEqual(pre.status, 204)
                self.assertEqual(pre.header("access-control-allow-origin"), "https://app.example")
                self.assertEqual(pre.header("access-control-allow-methods"), "GET, POST, PUT")
                self.assertEqual(pre.header("access-control-allow-headers"), "Content-Type, X-Token")
                self.assertEqual(pre.header("access-control-max-age"), "600")
                other = self.fetch("/api/data.json", p, method="OPTIONS",
                                   headers=["Origin: https://evil.example",
                                            "Access-Control-Request-Method: PUT"])
                self.assertEqual(other.status, 200)
                self.assertIsNone(other.header("access-control-allow-origin"))
                self.assertIn("GET", other.header("allow"))
                actual = self.fetch("/api/data.json", p, headers=[origin])
                self.assertEqual(actual.header("access-control-allow-origin"), "https://app.example")
                self.assertEqual(actual.header("access-control-expose-headers"), "X-Served-By")
                self.assertIn("Origin", actual.header("vary"))
                plain = self.fetch("/api/data.json", p)
                self.assertIsNone(plain.header("access-control-allow-origin"))
                self.assertIn("Origin", plain.header("vary"))

    def test_expiry_is_what_the_cache_goes_by(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                path = "/cached/long-%s.txt" % p
                first = self.fetch(path, p)
                self.assertIn("max-age=3600", first.header("cache-control"))
                self.assertIn("fwd=uri-miss", first.header("cache-status"))
                second = self.fetch(path, p)
                self.assertIn("hit", second.header("cache-status"))
                # Header rules are replayed by the quick path with the rest of the final head.
                def quick():
                    r = self.fetch(path, p)
                    return "detail=quick" in r.header("cache-status") and r
                answer = wait_for(quick, 10, "a quick-path answer")
                self.assertEqual(answer.header("x-frame-options"), "DENY")
                self.assertEqual(answer.header("cache-control"), "max-age=3600, no-transform")
                # 0s: stored as stale at once, so the next read goes to the store again.
                path = "/cached/now-%s.css" % p
                self.fetch(path, p)
                again = self.fetch(path, p)
                self.assertIn("max-age=0", again.header("cache-control"))
                self.assertNotIn("hit", again.header("cache-status").split(";")[1])

    def test_the_quick_path_answers_where_there_are_no_rules(self):
        def quick():
            r = self.fetch("/cached/long-h1.txt", headers=["Host: plain"])
            return "detail=quick" in (r.header("cache-status") or "")
        wait_for(quick, 10, "a quick-path answer in the host without rules")

    def test_rewrite_rules_are_never_skipped_by_the_quick_path(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                for _ in range(4):
                    plain = self.fetch("/rq/page.txt", p)
                    self.assertEqual(plain.body, b"rq page\n")
                    self.assertNotIn("detail=quick", plain.header("cache-status") or "")
                rewritten = self.fetch("/rq/page.txt", p, headers=["X-Beta: yes"])
                self.assertEqual(rewritten.body, b"docs index\n")

    def test_a_stores_own_lifetime_stands(self):
        for p in PROTOCOLS:
            with self.subTest(protocol=p):
                r = self.fetch("/cached-cgi/lifetime.sh", p)
                self.assertEqual(r.header("cache-control"), "max-age=5, no-transform")
                self.assertIsNone(r.header("expires"))

    # Tools

    def test_explain_names_each_rule_that_acted(self):
        result = subprocess.run([BINARY, "-f", self.server.config_path, "--explain",
                                 "http://localhost/r/item/42"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("rewrite: rule '^/r/item/(\\d+)$ /item.html?id=$1 [L]' matched: now "
                      "/item.html?id=42", result.stdout)
        self.assertIn("routed again as /item.html?id=42 to location /", result.stdout)
        result = subprocess.run([BINARY, "-f", self.server.config_path, "--explain",
                                 "http://localhost/app/nothing"], capture_output=True, text=True)
        self.assertIn("try-files: nothing exists, routed to /cgi-bin/front.sh?path=/app/nothing",
                      result.stdout)

    def test_rules_are_written_back_one_per_element(self):
        result = subprocess.run([BINARY, "-f", self.server.config_path, "-T"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.count("<RewriteRule>"), 13)
        self.assertIn("<Redirect>gone /removed</Redirect>", result.stdout)

    def test_bad_rules_are_refused_at_load_with_their_line(self):
        cases = {
            "<RewriteRule>^/a( /b</RewriteRule>": "not a regular expression",
            "<RewriteRule>^/a /b [Q]</RewriteRule>": "unknown flag 'Q'",
            "<RewriteRule>^/a /%{NOPE}</RewriteRule>": "unknown variable %{NOPE}",
            "<Redirect>301 old /new</Redirect>": "must start with '/'",
            "<Header>set Content-Length 1</Header>": "cannot change Content-Length",
            "<ErrorDocument>200 /x</ErrorDocument>": "error statuses",
            "<TryFiles>$uri</TryFiles>": "a fallback",
            "<ExpiresByType>text/css soon</ExpiresByType>": "TYPE DURATION",
            "<CorsAllowOrigins>app.example</CorsAllowOrigins>": "CorsAllowOrigins takes origins",
        }
        for line, message in cases.items():
            with self.subTest(line=line):
                path = os.path.join(self.workdir, "bad.xml")
                with open(path, "w") as f:
                    f.write("<Collage>\n<Mpm>event</Mpm>\n<Listen protocol=\"http1\" "
                            "port=\"0\"/>\n<VirtualHost name=\"x\">\n<DocumentRoot>%s"
                            "</DocumentRoot>\n%s\n</VirtualHost>\n</Collage>\n"
                            % (self.workdir, line))
                result = subprocess.run([BINARY, "-t", "-f", path], capture_output=True,
                                        text=True)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(path + ":6:", result.stderr)
                self.assertIn(message, result.stderr)


if __name__ == "__main__":
    unittest.main()
