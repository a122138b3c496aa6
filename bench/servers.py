"""Configurations for the reference servers the HTTP benchmarks start side by side with Collage:
Apache httpd (event, worker or prefork MPM), h2o and lighttpd, all from Debian. Each function
writes its configuration into a work directory and returns the argv that runs the server in the
foreground on 127.0.0.1:port, serving docroot with access logs off, keep-alive and sendfile on.
"""

import os

APACHE_MODULES = "/usr/lib/apache2/modules"


def apache(workdir, docroot, port, mpm="event", threads=64, processes=1, keepalive_timeout=300):
    """httpd with one MPM. threads: ThreadsPerChild (event/worker); processes: children."""
    d = os.path.join(workdir, "apache-%s-%d" % (mpm, port))
    os.makedirs(d, exist_ok=True)
    pool = {
        "event": "ThreadsPerChild %d\nThreadLimit %d\nMaxRequestWorkers %d\n"
                 "MinSpareThreads 1\nMaxSpareThreads %d\nAsyncRequestWorkerFactor 2\n",
        "worker": "ThreadsPerChild %d\nThreadLimit %d\nMaxRequestWorkers %d\n"
                  "MinSpareThreads 1\nMaxSpareThreads %d\n",
    }
    if mpm == "prefork":
        sizing = ("MinSpareServers %d\nMaxSpareServers %d\nMaxRequestWorkers %d\n" %
                  (processes, processes, processes))
    else:
        sizing = pool[mpm] % (threads, threads, threads * processes, threads * processes)
    config = os.path.join(d, "httpd.conf")
    with open(config, "w") as f:
        f.write("""ServerRoot %(d)s
DefaultRuntimeDir %(d)s
PidFile %(d)s/httpd.pid
ErrorLog %(d)s/error.log
LogLevel warn
Listen 127.0.0.1:%(port)d
ServerName localhost
User nobody
Group nogroup
LoadModule mpm_%(mpm)s_module %(mods)s/mod_mpm_%(mpm)s.so
LoadModule authz_core_module %(mods)s/mod_authz_core.so
LoadModule mime_module %(mods)s/mod_mime.so
TypesConfig /etc/mime.types
StartServers %(processes)d
ServerLimit %(processes)d
%(sizing)s
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout %(keepalive)d
EnableSendfile On
EnableMMAP Off
DocumentRoot %(root)s
<Directory %(root)s>
  Require all granted
  Options None
  AllowOverride None
</Directory>
""" % {"d": d, "port": port, "mpm": mpm, "mods": APACHE_MODULES, "processes": processes,
       "sizing": sizing, "keepalive": keepalive_timeout, "root": docroot})
    return ["/usr/sbin/apache2", "-f", config, "-DFOREGROUND"]


def h2o(workdir, docroot, port):
    config = os.path.join(workdir, "h2o-%d.conf" % port)
    with open(config, "w") as f:
        f.write("""num-threads: 1
pid-file: %s/h2o-%d.pid
user: root
http2-idle-timeout: 300
http1-request-timeout: 300
listen:
  host: 127.0.0.1
  port: %d
hosts:
  default:
    paths:
      /:
        file.dir: %s
""" % (workdir, port, port, docroot))
    return ["h2o", "-c", config]


def lighttpd(workdir, docroot, port):
    config = os.path.join(workdir, "lighttpd-%d.conf" % port)
    with open(config, "w") as f:
        f.write("""server.document-root = "%s"
server.bind = "127.0.0.1"
server.port = %d
server.pid-file = "%s/lighttpd-%d.pid"
server.errorlog = "%s/lighttpd-error.log"
server.max-keep-alive-requests = 100000
server.max-keep-alive-idle = 300
server.max-fds = 65536
server.max-connections = 30000
server.network-backend = "sendfile"
mimetype.assign = (".bin" => "application/octet-stream", ".html" => "text/html")
""" % (docroot, port, workdir, port, workdir))
    return ["lighttpd", "-D", "-f", config]


def collage(workdir, docroot, port, mpm="event", extra="", keepalive_timeout=300):
    """Collage with one child unless extra says otherwise."""
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    config = os.path.join(workdir, "collage-%s-%d.xml" % (mpm, port))
    load = ('<LoadModule name="prefork" path="%s/build/modules/mod_prefork.so"/>' % repo
            if mpm == "prefork" else "")
    with open(config, "w") as f:
        f.write("""<Collage>
  %s
  <Mpm>%s</Mpm>
  <Listen protocol="http1" address="127.0.0.1" port="%d"/>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <PidFile>off</PidFile>
  <KeepAliveTimeout>%ds</KeepAliveTimeout>
  <RequestHeaderTimeout>300s</RequestHeaderTimeout>
  <MaxKeepAliveRequests>0</MaxKeepAliveRequests>
  <DocumentRoot>%s</DocumentRoot>
  %s
</Collage>
""" % (load, mpm, port, keepalive_timeout, docroot, extra))
    return [os.path.join(repo, "build", "mpm", "collage"), "-f", config]
