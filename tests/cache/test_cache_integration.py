"""The cache against the real binary, with a CGI origin whose headers each test chooses
(origin.py): RFC 9111 storage and freshness rules, Vary, revalidation with 304 merging,
stale-if-error and stale-while-revalidate, request directives, Authorization and Set-Cookie,
PURGE and invalidation, 50 concurrent misses coalesced into one store call, HEAD and ranges from
a stored response, the entry limit, one entry for every protocol, the memory budget, the disk
tier across a restart and a damaged entry, and two servers sharing a real memcached (killed
mid-test)."""

import ftplib
import http.client
import io
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (CollageServer, free_port, make_certificate, recv_until_closed, wait_for)  # noqa: E402

ORIGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "origin.py")



def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def prepare(workdir):
    os.makedirs(os.path.join(workdir, "cgi-bin"), exist_ok=True)
    os.makedirs(os.path.join(workdir, "state"), exist_ok=True)
    os.makedirs(os.path.join(workdir, "site"), exist_ok=True)
    shutil.copy(ORIGIN, os.path.join(workdir, "cgi-bin", "origin.py"))
    os.chmod(os.path.join(workdir, "cgi-bin", "origin.py"), 0o755)


def config(workdir, extra_server="", extra_location="", origin_dir=None):
    """Scripts and their state come from origin_dir (two nodes share one, so keys agree)."""
    return """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<LogLevel>info</LogLevel>
<DocumentRoot>{origin}/site</DocumentRoot>
<CacheMemoryDirectory>{dir}/memory-tier</CacheMemoryDirectory>
<AccessLog>{dir}/access.log</AccessLog>
<AccessLogFormat>cache</AccessLogFormat>
{extra_server}
<Location path="/server-status">
  <Store>status</Store>
</Location>
<Location path="/metrics">
  <Store>metrics</Store>
</Location>
<Location path="/cgi-bin">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Cache>on</Cache>
  <CachePurge>on</CachePurge>
  {extra_location}
</Location>
<Location path="/cookies">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Cache>on</Cache>
  <CacheSetCookie>on</CacheSetCookie>
</Location>
<Location path="/shared">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Cache>on</Cache>
  <CacheValid>200 10m</CacheValid>
</Location>
<Location path="/guarded">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Cache>on</Cache>
  <AllowFrom>127.0.0.0/8</AllowFrom>
</Location>
<Location path="/compressed">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Cache>on</Cache>
  <Filters>compress</Filters>
  <CompressMinLength>0</CompressMinLength>
</Location>
<Location path="/filtered">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Filters>ssi compress</Filters>
  <CompressMinLength>0</CompressMinLength>
  <Cache>on</Cache>
  <CachePoint>filtered</CachePoint>
</Location>
<Location path="/small">
  <Store>cgi</Store>
  <CgiRoot>{origin}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={origin}/state</CgiSetEnv>
  <Cache>on</Cache>
  <CacheMaxEntrySize>100k</CacheMaxEntrySize>
</Location>
""".format(dir=workdir, origin=origin_dir or workdir, extra_server=extra_server,
           extra_location=extra_location)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    @property
    def cache_status(self):
        return self.header("Cache-Status")


def fetch(port, path, method="GET", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    result = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    connection.close()
    return result


def origin_path(tag, prefix="/cgi-bin", **params):
    return "%s/origin.py?%s" % (prefix, urllib.parse.urlencode(dict(tag=tag, **params)))


class CacheCase(unittest.TestCase):
    EXTRA_SERVER = ""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="collage-cache-")
        prepare(cls.workdir)
        cls.server = CollageServer(config(cls.workdir, cls.EXTRA_SERVER), workdir=cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        self.assertTrue(self.server.alive(), "server died:\n" + self.server.log())

    def runs(self, tag):
        try:
            with open(os.path.join(self.workdir, "state", "count-" + tag)) as f:
                return len(f.read())
        except FileNotFoundError:
            return 0

    def get(self, path, **kwargs):
        return fetch(self.server.port, path, **kwargs)

    def state_file(self, name, text=""):
        with open(os.path.join(self.workdir, "state", name), "w") as f:
            f.write(text)


class StorageAndFreshness(CacheCase):
    def test_fresh_response_is_stored_then_served_without_the_store(self):
        path = origin_path("fresh", cc="max-age=60")
        first = self.get(path)
        self.assertEqual(first.status, 200)
        self.assertIn("fwd=uri-miss", first.cache_status)
        self.assertIn("stored", first.cache_status)
        for _ in range(3):
            again = self.get(path)
            self.assertEqual(again.body, first.body)
            self.assertIn("hit", again.cache_status)
            self.assertTrue(again.header("Age").isdigit(), again.headers)
        self.assertEqual(self.runs("fresh"), 1)

    def test_each_kind_of_response_that_must_not_be_stored(self):
        cases = {
            "nostore": dict(cc="no-store"),
            "private": dict(cc="private, max-age=60"),
            "varystar": dict(cc="max-age=60", vary="*"),
            "cookie": dict(cc="max-age=60", cookie="1"),
            "servererror": dict(cc="", status="500 Broken"),
            "nothing": dict(),  # no freshness, no validators: nothing to gain by keeping it
        }
        for tag, params in cases.items():
            with self.subTest(tag=tag):
                first = self.get(origin_path(tag, **params))
                self.assertNotIn("stored", first.cache_status)
                second = self.get(origin_path(tag, **params))
                self.assertNotIn("hit", second.cache_status)
                self.assertEqual(self.runs(tag), 2)

    def test_set_cookie_responses_are_stored_only_where_allowed_and_without_the_cookie(self):
        path = origin_path("cookieok", prefix="/cookies", cc="max-age=60", cookie="1")
        first = self.get(path)
        self.assertIn("session=secret", first.header("Set-Cookie"))
        second = self.get(path)
        self.assertIn("hit", second.cache_status)
        self.assertEqual(second.header("Set-Cookie"), "")
        self.assertEqual(self.runs("cookieok"), 1)

    def test_expires_and_s_maxage(self):
        future = self.get(origin_path("expires", expires="Thu, 01 Jan 2099 00:00:00 GMT"))
        self.assertIn("stored", future.cache_status)
        self.assertIn("hit", self.get(origin_path(
            "expires", expires="Thu, 01 Jan 2099 00:00:00 GMT")).cache_status)
        # s-maxage wins over max-age for a shared cache; an invalid Expires is already stale.
        self.get(origin_path("smax", cc="max-age=0, s-maxage=60"))
        self.assertIn("hit", self.get(origin_path("smax", cc="max-age=0, s-maxage=60")).cache_status)
        self.get(origin_path("badexpires", expires="0", etag="e"))
        self.assertNotIn("hit", self.get(origin_path("badexpires", expires="0",
                                                     etag="e")).cache_status)
        self.assertEqual(self.runs("badexpires"), 2)

    def test_heuristic_freshness_from_last_modified(self):
        path = origin_path("heuristic", lm="Mon, 01 Jan 2024 00:00:00 GMT")
        self.get(path)
        second = self.get(path)
        self.assertIn("hit", second.cache_status)
        ttl = int(second.cache_status.split("ttl=")[1].split(";")[0])
        self.assertLessEqual(ttl, 86400)  # CacheHeuristicMax's default bounds it
        self.assertEqual(self.runs("heuristic"), 1)

    def test_cache_valid_gives_freshness_to_responses_without_any(self):
        path = "/shared/origin.py?tag=valid"
        self.get(path)
        self.assertIn("hit", self.get(path).cache_status)
        self.assertEqual(self.runs("valid"), 1)


class VariantsAndRequests(CacheCase):
    def test_vary_keeps_variants_apart(self):
        path = origin_path("vary", cc="max-age=60", vary="Accept-Language")
        bodies = {}
        for lang in ("en", "de", "en", "de", "en"):
            response = self.get(path, headers={"Accept-Language": lang})
            self.assertIn(b"lang=" + lang.encode(), response.body)
            bodies.setdefault(lang, response.body)
            self.assertEqual(response.body, bodies[lang])
        self.assertEqual(self.runs("vary"), 2)
        # Whitespace is normalized (RFC 9111 §4.1): the same variant.
        self.assertIn("hit", self.get(path, headers={"Accept-Language": "  en "}).cache_status)

    def test_request_directives(self):
        path = origin_path("reqcc", cc="max-age=60")
        self.get(path)
        self.assertIn("fwd=request", self.get(path, headers={"Cache-Control": "no-cache"})
                      .cache_status)
        self.assertIn("fwd=request", self.get(path, headers={"Pragma": "no-cache"}).cache_status)
        self.assertNotIn("hit", self.get(path, headers={"Cache-Control": "max-age=0"})
                         .cache_status)
        self.assertNotIn("hit", self.get(path, headers={"Cache-Control": "min-fresh=120"})
                         .cache_status)
        self.assertIn("hit", self.get(path, headers={"Cache-Control": "min-fresh=5"}).cache_status)
        runs = self.runs("reqcc")
        self.assertIn("bypass", self.get(path, headers={"Cache-Control": "no-store"})
                      .cache_status)
        self.assertEqual(self.runs("reqcc"), runs + 1)

    def test_only_if_cached(self):
        missing = self.get(origin_path("oic", cc="max-age=60"),
                           headers={"Cache-Control": "only-if-cached"})
        self.assertEqual(missing.status, 504)
        self.assertEqual(self.runs("oic"), 0)
        self.get(origin_path("oic", cc="max-age=60"))
        self.assertEqual(self.get(origin_path("oic", cc="max-age=60"),
                                  headers={"Cache-Control": "only-if-cached"}).status, 200)

    def test_max_stale_accepts_a_stale_response(self):
        path = origin_path("maxstale", cc="max-age=0", etag="m")
        self.get(path)
        stale = self.get(path, headers={"Cache-Control": "max-stale=600"})
        self.assertIn("hit", stale.cache_status)
        self.assertEqual(self.runs("maxstale"), 1)

    def test_authorization(self):
        plain = origin_path("auth", cc="max-age=60")
        self.get(plain, headers={"Authorization": "Basic dTpw"})
        self.assertNotIn("hit", self.get(plain, headers={"Authorization": "Basic dTpw"})
                         .cache_status)
        public = origin_path("authpublic", cc="public, max-age=60")
        self.get(public, headers={"Authorization": "Basic dTpw"})
        self.assertIn("hit", self.get(public, headers={"Authorization": "Basic dTpw"})
                      .cache_status)

    def test_head_and_ranges_are_answered_from_the_stored_response(self):
        path = origin_path("ranges", cc="max-age=60")
        full = self.get(path)
        head = self.get(path, method="HEAD")
        self.assertIn("hit", head.cache_status)
        self.assertEqual(head.body, b"")
        part = self.get(path, headers={"Range": "bytes=0-5"})
        self.assertEqual(part.status, 206)
        self.assertEqual(part.body, full.body[:6])
        self.assertIn("hit", part.cache_status)
        self.assertEqual(self.runs("ranges"), 1)


class Revalidation(CacheCase):
    def test_304_is_merged_into_the_stored_response(self):
        path = origin_path("reval", cc="max-age=0", etag="v1", honor304="1", cc304="max-age=60")
        first = self.get(path)
        second = self.get(path)
        self.assertIn("fwd=stale", second.cache_status)
        self.assertIn("fwd-status=304", second.cache_status)
        self.assertEqual(second.body, first.body)
        self.assertEqual(second.header("X-Revalidated"), "run 2")  # the 304's field, merged
        self.assertEqual(second.header("X-Run"), "1")              # the stored one, kept
        third = self.get(path)
        self.assertIn("hit", third.cache_status)  # fresh again, from the 304's Cache-Control
        self.assertEqual(self.runs("reval"), 2)

    def test_concurrent_revalidations_make_one_store_call(self):
        path = origin_path("revalmany", cc="max-age=0", etag="r", honor304="1",
                           cc304="max-age=60")
        first = self.get(path)
        self.state_file("sleep-revalmany", "0.5")
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.get(path)))
                   for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(results), 20)
        self.assertTrue(all(r.body == first.body for r in results))
        self.assertEqual(self.runs("revalmany"), 2)  # the first fetch and one revalidation

    def test_a_client_conditional_on_a_hit_gets_304(self):
        path = origin_path("clientcond", cc="max-age=60", etag="c1")
        self.get(path)
        response = self.get(path, headers={"If-None-Match": '"c1"'})
        self.assertEqual(response.status, 304)
        self.assertEqual(self.runs("clientcond"), 1)

    def test_stale_if_error(self):
        path = origin_path("sie", cc="max-age=0, stale-if-error=600", etag="s")
        first = self.get(path)
        self.state_file("fail-sie")
        stale = self.get(path)
        self.assertEqual(stale.status, 200)
        self.assertEqual(stale.body, first.body)
        self.assertIn("stale-if-error", stale.cache_status)
        # Without the directive the error goes through.
        plain = origin_path("nosie", cc="max-age=0", etag="s")
        self.get(plain)
        self.state_file("fail-nosie")
        self.assertEqual(self.get(plain).status, 503)

    def test_must_revalidate_never_serves_stale(self):
        path = origin_path("mustrev", cc="max-age=0, must-revalidate, stale-if-error=600",
                           etag="s")
        self.get(path)
        self.state_file("fail-mustrev")
        self.assertEqual(self.get(path, headers={"Cache-Control": "max-stale=600"}).status, 503)

    def test_stale_while_revalidate_answers_at_once_and_revalidates_behind(self):
        path = origin_path("swr", cc="max-age=0, stale-while-revalidate=600", etag="w")
        first = self.get(path)
        self.state_file("sleep-swr", "1.5")
        stale = self.get(path)
        # Answered from the entry while the store is still being asked (it sleeps 1.5 s).
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "state", "slept-swr")))
        self.assertEqual(stale.body, first.body)
        self.assertIn("detail=stale", stale.cache_status)
        wait_for(lambda: self.runs("swr") == 2, what="the revalidation to reach the origin")
        meanwhile = self.get(path)  # one revalidation at a time: this one is answered stale too
        self.assertIn("detail=stale", meanwhile.cache_status)
        wait_for(lambda: os.path.exists(os.path.join(self.workdir, "state", "slept-swr")),
                 what="the revalidation to finish")
        self.assertEqual(self.runs("swr"), 2)


class Operations(CacheCase):
    def test_purge_by_url_and_by_prefix(self):
        path = origin_path("purge", cc="max-age=60")
        self.get(path)
        purged = self.get(path, method="PURGE")
        self.assertEqual(purged.status, 200)
        self.assertIn("stored", self.get(path).cache_status)
        self.assertEqual(self.get("/cgi-bin/origin.py?tag=nothing-here", method="PURGE").status,
                         404)
        for tag in ("p1", "p2"):
            self.get(origin_path(tag, cc="max-age=60"))
        self.assertEqual(self.get("/cgi-bin/origin.py?tag=p*", method="PURGE").status, 200)
        for tag in ("p1", "p2"):
            self.assertNotIn("hit", self.get(origin_path(tag, cc="max-age=60")).cache_status)
        # Where CachePurge is off, PURGE is a method the location does not allow.
        self.assertEqual(self.get("/shared/origin.py", method="PURGE").status, 405)

    def test_counters_on_the_status_page_and_the_outcome_in_the_access_log(self):
        def counters():
            text = self.get("/server-status?auto").body.decode()
            return {k: v for k, v in (line.split(": ", 1) for line in text.splitlines())}

        def metrics():
            samples = {}
            for line in self.get("/metrics").body.decode().splitlines():
                if line.startswith(("collage_cache_", "collage_requests_total{")):
                    name, value = line.rsplit(" ", 1)
                    samples[name] = float(value)
            return samples

        def cgi_2xx(samples):
            return sum(v for k, v in samples.items() if k.startswith("collage_requests_total{") and
                       'store="cgi"' in k and 'code="2xx"' in k)

        before = counters()
        metrics_before = metrics()
        path = origin_path("counted", cc="max-age=60")
        self.get(path)
        for _ in range(3):
            self.get(path)
        after = counters()
        self.assertGreaterEqual(int(after["CacheHits"]) - int(before["CacheHits"]), 3)
        self.assertGreaterEqual(int(after["CacheMisses"]) - int(before["CacheMisses"]), 1)
        self.assertGreaterEqual(int(after["CacheMemoryStores"]) - int(before["CacheMemoryStores"]),
                                1)
        self.assertGreater(int(after["CacheMemoryBytes"]), 0)
        self.assertIn("CacheHitRatio", after)
        self.assertIn("CacheMemoryHitRatio", after)
        # The same counts in Prometheus families; hits answered by the quick path, before any
        # routing, still count as the cgi location's requests.
        metrics_after = wait_for(lambda: (lambda m: m if cgi_2xx(m) - cgi_2xx(metrics_before) >= 4
                                          else None)(metrics()))
        hit = 'collage_cache_requests_total{outcome="hit"}'
        self.assertGreaterEqual(metrics_after[hit] - metrics_before.get(hit, 0), 3)
        self.assertGreater(metrics_after['collage_cache_tier_bytes{tier="memory"}'], 0)
        html = self.get("/server-status").body.decode()
        self.assertIn("<h2>Cache</h2>", html)
        log = os.path.join(self.workdir, "access.log")

        def counted_lines():
            try:
                with open(log) as f:
                    found = [line for line in f.read().splitlines() if "tag=counted" in line]
            except FileNotFoundError:
                return None
            return found if len(found) >= 4 else None

        lines = wait_for(counted_lines, what="four access log lines")  # written once a second
        outcomes = [line.rsplit(" ", 1)[1] for line in lines]
        # Each line is written once its body is out, so two connections' lines may swap.
        self.assertEqual(sorted(outcomes[:4]), ["HIT", "HIT", "HIT", "MISS"], log)

    def test_unsafe_methods_invalidate(self):
        path = origin_path("post", cc="max-age=60")
        self.get(path)
        self.assertIn("hit", self.get(path).cache_status)
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        connection.request("POST", path, body=b"x=1")
        self.assertEqual(connection.getresponse().status, 200)
        connection.close()
        self.assertNotIn("hit", self.get(path).cache_status)

    def test_concurrent_misses_make_one_store_call(self):
        self.state_file("sleep-stampede", "0.5")
        path = origin_path("stampede", cc="max-age=60")
        results = []
        lock = threading.Lock()

        def one():
            response = self.get(path)
            with lock:
                results.append(response)

        threads = [threading.Thread(target=one) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(results), 50)
        self.assertTrue(all(r.status == 200 for r in results))
        self.assertEqual(len({r.body for r in results}), 1)
        self.assertEqual(self.runs("stampede"), 1)
        self.assertGreater(sum("collapsed" in r.cache_status for r in results), 0)

    def test_entry_limit_and_a_streamed_body(self):
        big = origin_path("big", prefix="/small", cc="max-age=60", size="300000")
        first = self.get(big)
        self.assertEqual(len(first.body), 300000)
        second = self.get(big)
        self.assertEqual(len(second.body), 300000)  # passed on whole, not stored
        self.assertNotIn("hit", second.cache_status)
        self.assertEqual(self.runs("big"), 2)
        streamed = origin_path("streamed", cc="max-age=60", size="300000")
        first = self.get(streamed)
        second = self.get(streamed)
        self.assertIn("hit", second.cache_status)
        self.assertEqual(second.body, first.body)
        self.assertEqual(self.runs("streamed"), 1)

    def test_one_entry_for_every_protocol(self):
        over_http = self.get("/shared/origin.py")
        self.assertEqual(over_http.status, 200)
        # The same script through another location, over Gopher and over FTP: the entry is the
        # resource's (the script and its query), so the store is not asked again.
        self.assertIn("hit", self.get("/cgi-bin/origin.py").cache_status)
        with socket.create_connection(("127.0.0.1", self.server.ports["gopher"]), 10) as sock:
            sock.sendall(b"/shared/origin.py\r\n")
            gopher = recv_until_closed(sock)
        self.assertEqual(gopher.replace(b"\r\n", b"\n"), over_http.body + b".\n")
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login()
        chunks = []
        ftp.retrbinary("RETR /shared/origin.py", chunks.append)
        ftp.quit()
        self.assertEqual(b"".join(chunks), over_http.body)
        self.assertEqual(self.runs("default"), 1)


class FilteredPoint(CacheCase):
    """CachePoint filtered keeps what SSI and compression made: neither runs again on a hit."""

    def test_ssi_output_is_kept(self):
        path = origin_path("ssi", prefix="/filtered", cc="max-age=60", ssi="1")
        first = self.get(path)
        self.assertIn(b"for port ", first.body)
        self.assertNotIn(b"<!--#", first.body)
        second = self.get(path)  # a new connection: another client port
        self.assertIn("hit", second.cache_status)
        self.assertEqual(second.body, first.body)  # the first request's expansion, kept
        self.assertEqual(self.runs("ssi"), 1)

    def test_compressed_variants_are_kept_side_by_side(self):
        import gzip as gzip_module
        path = origin_path("gz", prefix="/filtered", cc="max-age=60", ssi="1")
        coded = self.get(path, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(coded.header("Content-Encoding"), "gzip")
        identity = self.get(path)
        self.assertEqual(identity.header("Content-Encoding"), "")
        self.assertIn("vary-miss", identity.cache_status)  # another variant of the same URL
        again = self.get(path, headers={"Accept-Encoding": "gzip"})
        self.assertIn("hit", again.cache_status)
        self.assertEqual(again.header("Content-Encoding"), "gzip")
        self.assertEqual(gzip_module.decompress(again.body), gzip_module.decompress(coded.body))
        self.assertIn("hit", self.get(path).cache_status)
        # The script ran once per variant (the key is the URL), and each variant was made once.
        self.assertEqual(self.runs("gz"), 2)


class QuickPath(CacheCase):
    """A fresh hit seen once by the full path is answered before routing from then on. The
    quick answers are per child process, so each test talks over one keep-alive connection (one
    child, under prefork too)."""

    def setUp(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)

    def tearDown(self):
        self.connection.close()
        super().tearDown()

    def get(self, path, method="GET", headers=None):
        self.connection.request(method, path, headers=headers or {})
        response = self.connection.getresponse()
        body = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)

    def test_hits_go_quick_and_stop_when_the_entry_changes(self):
        path = origin_path("quick", cc="max-age=60")
        self.get(path)
        self.assertNotIn("quick", self.get(path).cache_status)  # the full path's hit teaches it
        quick = self.get(path)
        self.assertIn("hit", quick.cache_status)
        self.assertIn("detail=quick", quick.cache_status)
        self.assertEqual(quick.header("Content-Type"), "text/plain")
        self.assertTrue(quick.header("Age").isdigit())
        head = self.get(path, method="HEAD")
        self.assertIn("quick", head.cache_status)
        self.assertEqual(head.body, b"")
        # Conditional and range requests take the full path (and are answered right).
        self.assertEqual(self.get(path, headers={"Range": "bytes=0-1"}).status, 206)
        self.assertNotIn("quick", self.get(path, headers={"Range": "bytes=0-1"}).cache_status)
        # A purge (any process) ends the quick answer at once.
        self.assertEqual(self.get(path, method="PURGE").status, 200)
        self.assertIn("fwd=uri-miss", self.get(path).cache_status)
        self.assertEqual(self.runs("quick"), 2)

    def test_never_where_access_rules_apply(self):
        path = origin_path("guarded", prefix="/guarded", cc="max-age=60")
        for _ in range(4):
            response = self.get(path)
            self.assertNotIn("quick", response.cache_status)
        self.assertIn("hit", response.cache_status)

    def test_filtered_responses_only_when_the_body_is_the_entry(self):
        path = origin_path("zipped", prefix="/compressed", cc="max-age=60")
        gzip = {"Accept-Encoding": "gzip"}
        for _ in range(3):
            coded = self.get(path, headers=gzip)
            self.assertEqual(coded.header("Content-Encoding"), "gzip")
            self.assertNotIn("quick", coded.cache_status)  # compressed on the way: full path
        plain = [self.get(path) for _ in range(3)]
        self.assertIn("quick", plain[-1].cache_status)  # identity: the entry's own bytes
        self.assertEqual(plain[-1].header("Content-Encoding"), "")
        self.assertIn("Accept-Encoding", plain[-1].header("Vary"))
        # The quick answer keeps to its variant: a gzip client still gets gzip.
        self.assertEqual(self.get(path, headers=gzip).header("Content-Encoding"), "gzip")
        self.assertEqual(self.runs("zipped"), 1)

    def test_gopher_answers_stay_the_same_through_the_quick_path(self):
        def gopher():
            with socket.create_connection(("127.0.0.1", self.server.ports["gopher"]), 10) as s:
                s.sendall(b"/shared/origin.py\r\n")  # CacheValid gives it 10 minutes
                return recv_until_closed(s)
        first = gopher()
        self.assertIn(b"default run 1", first)
        for _ in range(3):
            self.assertEqual(gopher(), first)
        self.assertEqual(self.runs("default"), 1)


class FtpChangesInvalidate(unittest.TestCase):
    """An FTP upload, delete or rename reaches what HTTP cached of the same file."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="collage-cache-ftp-")
        self.root = os.path.join(self.workdir, "site")
        os.makedirs(os.path.join(self.root, "pub"))
        hashed = subprocess.run(["openssl", "passwd", "-6", "secret"], capture_output=True,
                                text=True, check=True).stdout.strip()
        with open(os.path.join(self.workdir, "users"), "w") as f:
            f.write("alice:%s:/:read,write,delete,mkdir\n" % hashed)
        for name in ("page.txt", "gone.txt", "old.txt"):
            with open(os.path.join(self.root, "pub", name), "w") as f:
                f.write("first version of %s\n" % name)
        self.server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0" host="ftp"/>
<FtpUserFile>{dir}/users</FtpUserFile>
<CacheMemoryDirectory>{dir}/memory-tier</CacheMemoryDirectory>
<VirtualHost name="web">
  <DocumentRoot>{root}</DocumentRoot>
  <Cache>on</Cache>
  <CacheValid>200 10m</CacheValid>
  <Location path="/server-status">
    <Store>status</Store>
  </Location>
</VirtualHost>
<VirtualHost name="ftp">
  <Protocols>ftp</Protocols>
  <DocumentRoot>{root}</DocumentRoot>
  <Writable>on</Writable>
  <Cache>on</Cache>
  <CacheValid>200 10m</CacheValid>
</VirtualHost>
""".format(dir=self.workdir, root=self.root), workdir=self.workdir)

    def tearDown(self):
        self.assertTrue(self.server.alive(), self.server.log())
        self.server.cleanup()

    def cached(self, path):
        fetch(self.server.port, path)
        response = fetch(self.server.port, path)
        self.assertIn("hit", response.header("Cache-Status"))
        return response

    def test_upload_delete_and_rename(self):
        self.cached("/pub/page.txt")
        self.cached("/pub/gone.txt")
        self.cached("/pub/old.txt")
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login("alice", "secret")

        def retrieve(path):
            chunks = []
            ftp.retrbinary("RETR " + path, chunks.append)
            return b"".join(chunks)

        def stores():
            status = fetch(self.server.port, "/server-status?auto").body.decode()
            return int(status.split("CacheMemoryStores: ")[1].split()[0])

        # FTP reads share HTTP's entry (and, from the second on, the quick path): nothing is
        # stored again, and reading or listing never invalidates (FTP's RETR lists first).
        before = stores()
        for _ in range(3):
            self.assertEqual(retrieve("/pub/page.txt"), b"first version of page.txt\n")
        ftp.nlst("/pub")
        self.assertEqual(stores(), before)
        self.assertIn("hit", fetch(self.server.port, "/pub/page.txt").header("Cache-Status"))
        ftp.storbinary("STOR /pub/page.txt", io.BytesIO(b"second version\n"))
        self.assertEqual(retrieve("/pub/page.txt"), b"second version\n")
        ftp.delete("/pub/gone.txt")
        ftp.rename("/pub/old.txt", "/pub/new.txt")
        ftp.quit()
        # HTTP sees the new version (the entry FTP's read just made, or a fresh one).
        page = fetch(self.server.port, "/pub/page.txt")
        self.assertEqual(page.body, b"second version\n")
        self.assertEqual(fetch(self.server.port, "/pub/gone.txt").status, 404)
        self.assertEqual(fetch(self.server.port, "/pub/old.txt").status, 404)
        self.assertEqual(fetch(self.server.port, "/pub/new.txt").body, b"first version of old.txt\n")


class MemoryBudget(CacheCase):
    EXTRA_SERVER = "<CacheMemorySize>400k</CacheMemorySize>"

    def test_the_budget_holds_and_least_recently_used_entries_go(self):
        for i in range(12):
            self.get(origin_path("budget%d" % i, cc="max-age=600", size="60000"))
        tier = os.path.join(self.workdir, "memory-tier")
        total = sum(os.path.getsize(os.path.join(tier, name)) for name in os.listdir(tier)
                    if len(name) == 16)
        self.assertLessEqual(total, 400 * 1024)
        self.assertNotIn("hit", self.get(origin_path("budget0", cc="max-age=600",
                                                     size="60000")).cache_status)
        self.assertIn("hit", self.get(origin_path("budget11", cc="max-age=600",
                                                  size="60000")).cache_status)


class DiskTier(unittest.TestCase):
    def test_entries_survive_a_restart_and_damaged_ones_are_dropped(self):
        workdir = tempfile.mkdtemp(prefix="collage-cache-disk-")
        prepare(workdir)
        extra_server = "<CacheDiskDirectory>%s/disk-tier</CacheDiskDirectory>" % workdir
        body = config(workdir, extra_server, "<CacheTiers>disk</CacheTiers>")
        server = CollageServer(body, workdir=workdir)
        path = origin_path("disk", cc="max-age=600")
        path2 = origin_path("damaged", cc="max-age=600")
        try:
            first = fetch(server.port, path)
            fetch(server.port, path2)
        finally:
            server.stop()
        # Damage one entry's body while the server is down.
        tier = os.path.join(workdir, "disk-tier")
        entries = [os.path.join(tier, n) for n in os.listdir(tier) if len(n) == 16]
        damaged = [p for p in entries if b"damaged run" in read_bytes(p)][0]
        with open(damaged, "r+b") as f:
            f.seek(-3, os.SEEK_END)
            f.write(b"!!!")
        server = CollageServer(body, workdir=workdir)
        try:
            again = fetch(server.port, path)
            self.assertIn("hit", again.header("Cache-Status"))
            self.assertEqual(again.body, first.body)
            self.assertNotIn("hit", fetch(server.port, path2).header("Cache-Status"))
            wait_for(lambda: "COL-CACHE-0002" in server.log(), what="the damaged entry's log line")
            with open(os.path.join(workdir, "state", "count-disk")) as f:
                self.assertEqual(len(f.read()), 1)
        finally:
            server.cleanup()


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False



def tls_servers(memcached_port, count=2):
    """Servers on one certificate, with (or, for port None, without) a shared memcached."""
    certs = tempfile.mkdtemp(prefix="collage-cache-certs-")
    cert, key = make_certificate(certs)
    servers = []
    for _ in range(count):
        workdir = tempfile.mkdtemp(prefix="collage-cache-tls-")
        os.makedirs(os.path.join(workdir, "site"))
        with open(os.path.join(workdir, "site", "index.html"), "w") as f:
            f.write("hello\n")
        shared = ("<CacheMemcachedServers>127.0.0.1:%d</CacheMemcachedServers>" % memcached_port
                  if memcached_port else "")
        servers.append(CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0" tls="on"/>
<TLSCertificateFile>%s</TLSCertificateFile>
<TLSCertificateKeyFile>%s</TLSCertificateKeyFile>
<CacheMemoryDirectory>%s/memory-tier</CacheMemoryDirectory>
%s
<DocumentRoot>%s/site</DocumentRoot>
""" % (cert, key, workdir, shared, workdir), workdir=workdir))
    return servers


def resumes_across(a, b):
    """Whether a TLS session made with server a resumes on server b."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def request(port, session=None):
        with socket.create_connection(("127.0.0.1", port), 10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                while tls.recv(65536):
                    pass
                return tls.session, tls.session_reused

    session, _ = request(a.port)
    _, reused_on_a = request(a.port, session)
    _, reused_on_b = request(b.port, session)
    return reused_on_a, reused_on_b


class SharedMemcached(unittest.TestCase):
    def test_tls_sessions_resume_on_any_node_through_memcached(self):
        port = free_port()
        daemon = subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                                   "-u", "nobody", "-m", "16"])
        servers = []
        try:
            wait_for(lambda: listening(port), what="memcached to listen")
            servers = tls_servers(None)
            # Alone, each server has its own key: a ticket from one is no use at the other.
            self.assertEqual(resumes_across(*servers), (True, False))
            for server in servers:
                server.cleanup()
            servers = tls_servers(port)
            self.assertEqual(resumes_across(*servers), (True, True))
        finally:
            daemon.kill()
            daemon.wait()
            for server in servers:
                server.cleanup()

    def test_two_servers_share_entries_and_survive_memcached_going_away(self):
        memcached = shutil.which("memcached") or "/usr/bin/memcached"
        port = free_port()
        daemon = subprocess.Popen([memcached, "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                                   "-u", "nobody", "-m", "16"])

        def answering():
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False

        wait_for(answering, what="memcached to listen")
        servers = []
        try:
            origin = tempfile.mkdtemp(prefix="collage-cache-origin-")
            prepare(origin)
            shared_state = os.path.join(origin, "state")
            for _ in range(2):
                workdir = tempfile.mkdtemp(prefix="collage-cache-mc-")
                extra = "<CacheMemcachedServers>127.0.0.1:%d</CacheMemcachedServers>" % port
                servers.append(CollageServer(
                    config(workdir, extra, "<CacheTiers>memory memcached</CacheTiers>", origin),
                    workdir=workdir))
            a, b = servers
            path = origin_path("node", cc="max-age=600")
            first = fetch(a.port, path)
            self.assertIn("stored", first.header("Cache-Status"))
            from_b = fetch(b.port, path)
            self.assertIn("hit", from_b.header("Cache-Status"))
            self.assertEqual(from_b.body, first.body)
            with open(os.path.join(shared_state, "count-node")) as f:
                self.assertEqual(len(f.read()), 1)
            daemon.kill()
            daemon.wait()
            started = time.time()
            for i in range(5):
                response = fetch(b.port, origin_path("down%d" % i, cc="max-age=600"))
                self.assertEqual(response.status, 200)
            self.assertLess(time.time() - started, 10)
            wait_for(lambda: "COL-CACHE-0004" in b.log(), what="a log line about memcached")
        finally:
            if daemon.poll() is None:
                daemon.kill()
            for server in servers:
                server.cleanup()


class NoCacheLeavesNoTierBehind(unittest.TestCase):
    """Regression: every server used to make its default memory tier in /dev/shm (a 2 MiB index)
    whether or not any location cached, and test runs piled them up by the hundred."""

    def test_a_server_that_caches_nowhere_makes_no_tier(self):
        workdir = tempfile.mkdtemp(prefix="collage-nocache-")
        with open(os.path.join(workdir, "page.html"), "w") as f:
            f.write("page\n")
        os.makedirs(os.path.join(workdir, "up"))
        server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{dir}</DocumentRoot>
<Location path="/up">
  <DocumentRoot>{dir}</DocumentRoot>
  <Writable>on</Writable>
</Location>
<Location path="/server-status">
  <Store>status</Store>
</Location>
""".format(dir=workdir), workdir=workdir)
        try:
            # The default directory is named after the user and the configuration file (FNV-1a).
            digest = 0xcbf29ce484222325
            for byte in server.config_path.encode():
                digest = ((digest ^ byte) * 0x100000001b3) & 0xffffffffffffffff
            default = "/dev/shm/collage-cache-%d-%08x" % (os.getuid(), digest & 0xffffffff)
            for method, path, body in (("GET", "/page.html", None), ("PUT", "/up/new.txt", b"x"),
                                       ("DELETE", "/up/new.txt", None),
                                       ("GET", "/server-status?auto", None)):
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                connection.request(method, path, body=body)
                self.assertLess(connection.getresponse().status, 300, (method, path))
                connection.close()
            self.assertFalse(os.path.exists(default), default)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
