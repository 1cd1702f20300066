"""SBOMs of images built from this machine's real package databases, checked against independent tools."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import referencing

from cloudward.distribute.image import open_image
from cloudward.distribute.packages import Ecosystem
from cloudward.distribute.sbom import generate_sbom, render_sbom
from tests.distribute.imagecli import run_cli
from tests.distribute.imagekit import Item, build_image, files_from_host, write_docker_archive, write_layout

SHARED = Path(__file__).resolve().parents[3] / "shared"
DPKG_STATUS = Path("/var/lib/dpkg/status")
NPM_MODULES = Path("/usr/lib/node_modules/npm/node_modules")
OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'


def _site_packages() -> Path:
    return Path(importlib.metadata.distribution("PyYAML")._path).parent  # type: ignore[attr-defined]


def _dpkg_installed() -> set[tuple[str, str, str]]:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\n"],
                         capture_output=True, text=True, check=True).stdout
    return {(p, v, s) for st, p, v, s in (line.split("\t") for line in out.splitlines()) if st.startswith("ii")}


@pytest.fixture(scope="module")
def real_image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    if not DPKG_STATUS.is_file() or shutil.which("dpkg-query") is None:
        pytest.skip("this machine has no dpkg database")
    site = _site_packages()
    py_items = []
    for dist in ("PyYAML", "packageurl-python", "zstandard"):
        info = Path(importlib.metadata.distribution(dist)._path)  # type: ignore[attr-defined]
        py_items += files_from_host(info / "METADATA", f"usr/lib/python3/dist-packages/{info.name}/METADATA")
    layers = [
        [Item("usr/lib/os-release", OS_RELEASE), Item("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
         *files_from_host(DPKG_STATUS, "var/lib/dpkg/status")],
        py_items,
        [Item("app/requirements.txt", b"flask==3.0.3\nrequests>=2  # unpinned: skipped\n-e .\n"),
         Item("usr/lib/python3/dist-packages/" + Path(importlib.metadata.distribution("zstandard")._path).name,  # type: ignore[attr-defined]
              kind="whiteout")],
    ]
    if NPM_MODULES.is_dir():
        for name in ("semver", "chalk", "@npmcli/arborist"):
            if (NPM_MODULES / name / "package.json").is_file():
                layers[2] += files_from_host(NPM_MODULES / name / "package.json",
                                             f"app/node_modules/{name}/package.json")
    built = build_image(layers)
    layout = write_layout(tmp_path_factory.mktemp("real") / "layout", built, "v1")
    assert site.is_dir()
    return layout, built


def test_dpkg_matches_dpkg_query(real_image) -> None:
    layout, built = real_image
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version_id) == ("debian", "12")
    debs = {(p.name, p.version, p.source_name) for p in sbom.packages if p.ecosystem is Ecosystem.DEBIAN}
    expected = {(p, v, s or p) for p, v, s in _dpkg_installed()}
    assert debs == expected
    some = next(p for p in sbom.packages if p.ecosystem is Ecosystem.DEBIAN)
    assert some.layer == built.layer_digests[0] and some.path == "/var/lib/dpkg/status"
    assert some.purl.startswith(f"pkg:deb/debian/{some.name}@") and "distro=debian-12" in some.purl


def test_python_and_npm_packages(real_image) -> None:
    layout, built = real_image
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    py = {(p.name, p.version) for p in sbom.packages if p.ecosystem is Ecosystem.PYPI}
    expected = {(d, importlib.metadata.version(d)) for d in ("PyYAML", "packageurl-python")}
    assert expected | {("flask", "3.0.3")} == py  # zstandard was deleted in the top layer
    yaml_pkg = next(p for p in sbom.packages if p.name == "PyYAML")
    assert yaml_pkg.purl == f"pkg:pypi/pyyaml@{importlib.metadata.version('PyYAML')}"
    assert yaml_pkg.layer == built.layer_digests[1] and yaml_pkg.licenses == ("MIT",)
    if NPM_MODULES.is_dir():
        npm = {p.name: p for p in sbom.packages if p.ecosystem is Ecosystem.NPM}
        semver = json.loads((NPM_MODULES / "semver" / "package.json").read_text())
        assert npm["semver"].version == semver["version"]
        assert npm["semver"].purl == f"pkg:npm/semver@{semver['version']}"
        if "@npmcli/arborist" in npm:
            assert npm["@npmcli/arborist"].purl.startswith("pkg:npm/%40npmcli/arborist@")


def test_alpine_apk_from_shared_layout() -> None:
    layout = SHARED / "test-images" / "oci-layouts" / "handmade-alpine-whiteout"
    if not layout.is_dir():
        pytest.skip("../shared/test-images is absent")
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    apk = {p.name: p for p in sbom.packages if p.ecosystem is Ecosystem.ALPINE}
    assert apk["musl"].version == "1.2.4_git20230717-r4"
    assert apk["musl"].purl.startswith("pkg:apk/alpine/musl@1.2.4_git20230717-r4?")
    assert "distro=alpine-3.19.1" in apk["musl"].purl
    assert apk["busybox"].source_name


def test_rpm_sqlite_matches_rpm_tool() -> None:
    root = SHARED / "test-images" / "rootfs-fixtures" / "rpm-sqlite"
    if not root.is_dir():
        pytest.skip("../shared/test-images is absent")
    if shutil.which("rpm") is None:
        pytest.skip("Debian's rpm is not installed (make install installs it)")
    out = subprocess.run(["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", "-qa", "--qf",
                          "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{SOURCERPM}\t%{ARCH}\n"],
                         capture_output=True, text=True, check=True).stdout
    expected = {tuple(line.split("\t")) for line in out.splitlines()}
    with open_image(f"dir:{root}") as image:
        sbom = generate_sbom(image)
    got = {(p.name, p.version, f"{p.source_name}-{p.source_version.split(':')[-1]}.src.rpm", p.arch)
           for p in sbom.packages}
    assert got == expected


def _cdx_validator():
    import cyclonedx.schema._res as res  # the schemas cyclonedx-python-lib ships

    base = Path(res.__file__).parent
    schema = json.loads((base / "bom-1.6.SNAPSHOT.schema.json").read_text())
    registry = referencing.Registry()
    for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
        resource = referencing.Resource.from_contents(json.loads((base / name).read_text()),
                                                      default_specification=referencing.jsonschema.DRAFT7)
        registry = registry.with_resource(f"http://cyclonedx.org/schema/{name}", resource)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def _shared_cdx_validator():
    d = SHARED / "schemas" / "cyclonedx-1.6"
    if not d.is_dir():
        pytest.skip("../shared/schemas is absent")
    schema = json.loads((d / "bom-1.6.schema.json").read_text())
    registry = referencing.Registry()
    for name, path in (("spdx.schema.json", d / "spdx-license-list-3.28" / "spdx.schema.json"),
                       ("jsf-0.82.schema.json", d / "jsf-0.82.schema.json")):
        resource = referencing.Resource.from_contents(json.loads(path.read_text()),
                                                      default_specification=referencing.jsonschema.DRAFT7)
        registry = registry.with_resource(f"http://cyclonedx.org/schema/{name}", resource)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def test_cyclonedx_is_valid_and_complete(real_image) -> None:
    layout, built = real_image
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    doc = json.loads(render_sbom(sbom, "cyclonedx-json"))
    _shared_cdx_validator().validate(doc)
    _cdx_validator().validate(doc)
    assert doc["specVersion"] == "1.6"
    assert doc["metadata"]["component"]["type"] == "container"
    purls = {c["purl"] for c in doc["components"]}
    assert purls == {p.purl for p in sbom.packages}
    yaml_c = next(c for c in doc["components"] if c["name"] == "PyYAML")
    props = {p["name"]: p["value"] for p in yaml_c["properties"]}
    assert props["cloudward:layer"] == built.layer_digests[1]


def test_spdx_is_valid_against_the_official_schema(real_image) -> None:
    schema_path = SHARED / "schemas" / "spdx-2.3" / "spdx-schema.json"
    if not schema_path.is_file():
        pytest.skip("../shared/schemas is absent")
    layout, _ = real_image
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    doc = json.loads(render_sbom(sbom, "spdx-json"))
    schema = json.loads(schema_path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(doc)
    locators = {r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])}
    assert locators == {p.purl for p in sbom.packages}
    assert len({p["SPDXID"] for p in doc["packages"]}) == len(doc["packages"])
    yaml_p = next(p for p in doc["packages"] if p["name"] == "PyYAML")
    assert yaml_p["licenseDeclared"] == "MIT"


def test_cli_sbom_formats_and_errors(real_image, tmp_path: Path) -> None:
    layout, built = real_image
    out = tmp_path / "sbom.cdx.json"
    r = run_cli("image", "sbom", f"oci:{layout}:v1", "--format", "cyclonedx-json", "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"
    docker_tar = write_docker_archive(tmp_path / "img.tar", built)
    r = run_cli("image", "sbom", f"docker-archive:{docker_tar}")
    assert r.returncode == 0, r.stderr
    assert "PyYAML" in r.stdout and "Debian GNU/Linux 12 (bookworm)" in r.stdout
    r = run_cli("image", "sbom", str(tmp_path / "nope"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "nope" in r.stderr, r.stderr
    r = run_cli("image", "sbom", f"oci:{layout}:v1", "--platform", "linux")
    assert r.returncode == 2 and "invalid platform 'linux'" in r.stderr


def test_go_binary_build_info(tmp_path: Path) -> None:
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed (Debian golang-go)")
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/hello\n\ngo 1.19\n")
    (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n')
    env = {"HOME": str(tmp_path), "GOCACHE": str(tmp_path / "cache"), "GOFLAGS": "-mod=mod", "GOPROXY": "off",
           "PATH": "/usr/bin:/bin", "CGO_ENABLED": "0"}
    subprocess.run([go, "build", "-o", str(tmp_path / "hello"), "."], cwd=src, env=env, check=True, timeout=240)
    version = subprocess.run([go, "version", "-m", str(tmp_path / "hello")], capture_output=True, text=True,
                             env=env, check=True).stdout
    go_version = version.split(": ", 1)[1].split()[0]  # "go1.19.8"
    built = build_image([[Item("usr/local/bin/hello", (tmp_path / "hello").read_bytes(), mode=0o755)]])
    layout = write_layout(tmp_path / "layout", built, "v1")
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    go_pkgs = {(p.name, p.version) for p in sbom.packages if p.ecosystem is Ecosystem.GO}
    assert ("stdlib", "v" + go_version.removeprefix("go")) in go_pkgs
    assert next(p for p in sbom.packages if p.name == "stdlib").path == "/usr/local/bin/hello"


def test_rust_cargo_auditable_crates(tmp_path: Path) -> None:
    """A real Rust binary (rustc) given a ``.dep-v0`` section the way cargo-auditable embeds one (objcopy).

    The JSON follows cargo-auditable's schema (rustsec.org/schemas/cargo-auditable.json): packages by
    index, ``source`` crates.io/git/local/registry, ``kind`` build or runtime (the default), one ``root``.
    """
    import zlib

    objcopy = shutil.which("objcopy")
    if objcopy is None:
        pytest.skip("objcopy (Debian binutils) is not installed")
    binary = tmp_path / "hello"
    rustc = shutil.which("rustc")
    if rustc is not None:
        (tmp_path / "main.rs").write_text('fn main() { println!("hi"); }\n')
        subprocess.run([rustc, "-O", "-o", str(binary), str(tmp_path / "main.rs")], check=True, timeout=240,
                       capture_output=True)
    else:  # any ELF executable carries the section the same way
        shutil.copy(Path(sys.executable).resolve(), binary)
    info = {"packages": [
        {"name": "hello", "version": "0.1.0", "source": "local", "dependencies": [1, 2, 3], "root": True},
        {"name": "serde", "version": "1.0.210", "source": "crates.io", "dependencies": [3]},
        {"name": "time", "version": "0.3.20", "source": "registry", "kind": "runtime"},
        {"name": "cc", "version": "1.1.21", "source": "crates.io", "kind": "build"},
    ]}
    (tmp_path / "dep.zlib").write_bytes(zlib.compress(json.dumps(info).encode()))
    subprocess.run([objcopy, "--add-section", f".dep-v0={tmp_path / 'dep.zlib'}", "--set-section-flags",
                    ".dep-v0=noload,readonly", str(binary)], check=True, timeout=60)
    built = build_image([[Item("usr/local/bin/hello", binary.read_bytes(), mode=0o755)]])
    layout = write_layout(tmp_path / "layout", built, "v1")
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    crates = {(p.name, p.version, p.purl, p.path) for p in sbom.packages if p.ecosystem is Ecosystem.CRATES_IO}
    # the root crate (local) and the build-only dependency are not in the binary's runtime
    assert crates == {("serde", "1.0.210", "pkg:cargo/serde@1.0.210", "/usr/local/bin/hello"),
                      ("time", "0.3.20", "pkg:cargo/time@0.3.20", "/usr/local/bin/hello")}


def test_java_nested_jars(tmp_path: Path) -> None:
    import io
    import zipfile

    def jar(entries: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for k, v in entries.items():
                zf.writestr(k, v)
        return buf.getvalue()

    inner = jar({"META-INF/maven/org.slf4j/slf4j-api/pom.properties": b"groupId=org.slf4j\nartifactId=slf4j-api\n"
                 b"version=2.0.13\n"})
    manifest_only = jar({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\nImplementation-Title: commons-lang3\n"
                         b"Implementation-Version: 3.14.0\nImplementation-Vendor-Id: org.apache.commons\n"})
    war = jar({"WEB-INF/lib/slf4j-api-2.0.13.jar": inner, "WEB-INF/lib/commons-lang3-3.14.0.jar": manifest_only,
               "META-INF/maven/com.example/app/pom.properties": b"groupId=com.example\nartifactId=app\nversion=1.0\n"})
    built = build_image([[Item("srv/app.war", war)]])
    layout = write_layout(tmp_path / "layout", built, "v1")
    with open_image(f"oci:{layout}:v1") as image:
        sbom = generate_sbom(image)
    got = {(p.purl, p.path) for p in sbom.packages}
    assert got == {
        ("pkg:maven/com.example/app@1.0", "/srv/app.war"),
        ("pkg:maven/org.slf4j/slf4j-api@2.0.13", "/srv/app.war!/WEB-INF/lib/slf4j-api-2.0.13.jar"),
        ("pkg:maven/org.apache.commons/commons-lang3@3.14.0", "/srv/app.war!/WEB-INF/lib/commons-lang3-3.14.0.jar"),
    }


def test_no_os_image_is_reported_as_unknown(tmp_path: Path) -> None:
    built = build_image([[Item("hello.txt", b"hi")]])
    layout = write_layout(tmp_path / "layout", built, "v1")
    r = run_cli("image", "sbom", f"oci:{layout}:v1")
    assert r.returncode == 0
    assert "0 packages, OS: unknown" in r.stdout
    assert "no OS detected" in r.stderr

