"""collage --schema xsd|json: the bundled example and other working configurations validate
with xmllint against the generated XML Schema (and, in their JSON form, with python3-jsonschema
against the JSON Schema); deliberately wrong ones are refused by the schema and by the loader
alike; what the loader accepts in odd spellings the schema accepts too."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree

import jsonschema

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import BINARY  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

GOOD = {
    "odd spellings the loader takes": """
<Collage>
  <Mpm>event</Mpm>
  <Define name="PORT" value="0"/>
  <Listen protocol="http1" address="127.0.0.1" port="${PORT}"/>
  <KeepAliveTimeout> 5s </KeepAliveTimeout>
  <LogLevel>INFO</LogLevel>
  <LimitRequestBody>10MiB</LimitRequestBody>
  <VirtualHost name="a">
    <DocumentRoot>{dir}</DocumentRoot>
    <DirectoryListing>ON</DirectoryListing>
    <RewriteRule>^/a /b [L]
      if %{HTTP_HOST} ^a$</RewriteRule>
    <RewriteRule>^/c /d</RewriteRule>
    <Location path="/x"><Header>set X-A 1</Header></Location>
    <Location path="@named"/>
  </VirtualHost>
</Collage>
""",
}

# Each is wrong in one way; the schema and `collage -t` must both refuse it (the loader saying
# what the case is about, not tripping on something else).
BAD = {
    "unknown directive": ("<KeepAliveTimout>5s</KeepAliveTimout>",
                          "unknown directive 'KeepAliveTimout'"),
    "directive in the wrong context": ("<VirtualHost name=\"v\"><Mpm>worker</Mpm></VirtualHost>",
                                       "Mpm is not allowed in"),
    "flag that is no flag": ("<DirectoryListing>maybe</DirectoryListing>", "expects on or off"),
    "duration without a known unit": ("<KeepAliveTimeout>5 parsecs</KeepAliveTimeout>",
                                      "duration unit"),
    "size with an unknown unit": ("<LimitRequestBody>10q</LimitRequestBody>", "size unit"),
    "enumeration value not listed": ("<LogLevel>loud</LogLevel>", "expects one of"),
    "port out of range": ("<Listen protocol=\"http1\" port=\"70000\"/>",
                          "port must be a number from 0 to 65535"),
    "required attribute missing": ("<Location><DirectoryListing>on</DirectoryListing></Location>",
                                   "<Location> needs a 'path' attribute"),
    "unknown attribute": ("<Listen protocol=\"http1\" port=\"1\" colour=\"red\"/>",
                          "unknown attribute 'colour'"),
    "structural element inside a location": (
        "<Location path=\"/a\"><Listen protocol=\"http1\" port=\"1\"/></Location>",
        "<Listen> is not allowed inside"),
    "empty rule": ("<Header>   </Header>", "Header needs a value"),
}


def schema(kind):
    out = subprocess.run([BINARY, "--schema", kind], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return out.stdout


class SchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="collage-schema-")
        cls.xsd = os.path.join(cls.dir, "collage.xsd")
        with open(cls.xsd, "w") as f:
            f.write(schema("xsd"))
        cls.json_schema = json.loads(schema("json"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text.replace("{dir}", self.dir))
        return path

    def xmllint(self, path):
        return subprocess.run(["xmllint", "--noout", "--schema", self.xsd, path],
                              capture_output=True, text=True, timeout=30)

    def check(self, path):
        return subprocess.run([BINARY, "-t", "-f", path, "-D", "MODULEDIR=" + os.path.join(
            os.path.dirname(BINARY), "..", "modules")], capture_output=True, text=True,
                              timeout=30, cwd=REPO)

    def to_json(self, path):
        """The JSON form of an XML configuration, as the JSON Schema describes it."""
        defs = self.json_schema["$defs"]

        def scope(element, kind):
            out = {}
            properties = defs[kind]["properties"]
            for name, value in element.attrib.items():
                out[name] = typed(properties.get(name, {}), value)
            for child in element:
                tag = child.tag
                spec = properties.get(tag, {})
                if spec.get("type") == "array" and "$ref" in spec.get("items", {}):
                    inner = spec["items"]["$ref"].rsplit("/", 1)[1]
                    out.setdefault(tag, []).append(scope(child, inner))
                elif spec.get("type") == "array":
                    out.setdefault(tag, []).append(" ".join((child.text or "").split()))
                else:
                    out[tag] = typed(spec, (child.text or "").strip())
            return out

        def typed(spec, text):
            # Whole numbers are JSON numbers; a ${VARIABLE} stays a string.
            numeric = any(s.get("type") == "integer" for s in spec.get("anyOf", []))
            return int(text) if numeric and text.lstrip("-").isdigit() else text

        return scope(ElementTree.parse(path).getroot(), "server")

    def test_the_schemas_are_schemas(self):
        self.assertEqual(subprocess.run(["xmllint", "--noout", self.xsd]).returncode, 0)
        jsonschema.Draft202012Validator.check_schema(self.json_schema)
        # Every directive of the registry is in both, with its help line.
        reference = subprocess.run([BINARY, "-L"], capture_output=True, text=True).stdout
        with open(self.xsd) as f:
            xsd = f.read()
        for line in reference.splitlines():
            if line.startswith("| `") and not line.startswith("| `<"):
                name = line.split("`")[1]
                if name[0].isupper():
                    self.assertIn('name="%s"' % name, xsd)

    def test_working_configurations_validate(self):
        example = os.path.join(REPO, "examples", "collage.xml")
        result = self.xmllint(example)
        self.assertEqual(result.returncode, 0, result.stderr)
        jsonschema.validate(self.to_json(example), self.json_schema)
        for name, text in GOOD.items():
            with self.subTest(name=name):
                path = self.write("good.xml", text)
                result = self.xmllint(path)
                self.assertEqual(result.returncode, 0, result.stderr)
                loaded = self.check(path)
                self.assertEqual(loaded.returncode, 0, loaded.stderr)
                jsonschema.validate(self.to_json(path), self.json_schema)

    def test_wrong_configurations_are_refused_by_schema_and_loader(self):
        base = ("<Collage>\n<Mpm>event</Mpm>\n<Listen protocol=\"http1\" address=\"127.0.0.1\" "
                "port=\"0\"/>\n<DocumentRoot>{dir}</DocumentRoot>\n%s\n</Collage>\n")
        # The base alone is fine for all three, so each refusal below is the fragment's.
        path = self.write("base.xml", base % "")
        self.assertEqual(self.xmllint(path).returncode, 0)
        self.assertEqual(self.check(path).returncode, 0, self.check(path).stderr)
        jsonschema.validate(self.to_json(path), self.json_schema)
        for name, (fragment, message) in BAD.items():
            with self.subTest(name=name):
                path = self.write("bad.xml", base % fragment)
                self.assertNotEqual(self.xmllint(path).returncode, 0)
                loaded = self.check(path)
                self.assertNotEqual(loaded.returncode, 0)
                self.assertIn(message, loaded.stderr)
                with self.assertRaises(jsonschema.ValidationError):
                    jsonschema.validate(self.to_json(path), self.json_schema)


if __name__ == "__main__":
    unittest.main()
