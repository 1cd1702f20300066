"""The distribute image/SBOM/secrets/scan packages' public surfaces are pinned."""

from __future__ import annotations

import cloudward.distribute.image as image
import cloudward.distribute.imagescan as imagescan
import cloudward.distribute.malware as malware
import cloudward.distribute.sbom as sbom
import cloudward.distribute.secrets as secrets


def test_public_api_is_pinned() -> None:
    assert set(image.__all__) == {
        "DEFAULT_PLATFORM", "Analyzer", "Credentials", "Descriptor", "DigestMismatchError", "EntryKind", "FileEntry",
        "HistoryEntry", "Hit", "Image", "ImageConfig", "ImageError", "ImageReference", "Layer", "LimitExceededError",
        "Manifest", "NotFoundError", "OpenOptions", "Platform", "RegistryAuthError", "RegistryClient",
        "RegistryError", "RegistryRef", "SquashedView", "Transport", "WalkLimits", "WalkResult", "default_auth_file",
        "load_credentials", "open_image", "parse_reference", "walk_image"}
    assert set(sbom.__all__) == {"ImageInfo", "Sbom", "SbomFormat", "catalog", "default_catalogers", "generate_sbom",
                                 "render_sbom"}
    assert set(secrets.__all__) == {"RULES", "SecretMatch", "SecretRule", "find_secrets", "redact",
                                    "shannon_entropy"}
    assert set(malware.__all__) == {"DEFAULT_BAD_SHA256", "MalwareAnalyzer", "MalwareMatch", "load_hash_list",
                                    "load_yara_rules"}
    assert set(imagescan.__all__) == {"SCANNER_URI", "ImageScanResult", "SecretAnalyzer", "VulnerabilitiesNotChecked",
                                      "VulnerabilityCheck", "all_image_rules", "scan_image", "vuln_predicate"}


def test_image_rule_ids_are_unique_slugs() -> None:
    ids = [r.id for r in imagescan.all_image_rules()]
    assert len(ids) == len(set(ids))
    assert {i.split(".", 1)[0] for i in ids} == {"image", "secret", "malware"}


def test_image_rules_target_images_not_kubernetes_objects() -> None:
    from cloudward.core.rules import Target

    rules = imagescan.all_image_rules()
    assert {r.target for r in rules} == {Target.IMAGE}
    assert all(not r.kinds for r in rules)
