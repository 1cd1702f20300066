"""The distribute stage: images, SBOMs, vulnerabilities, secrets, malware, signatures."""
