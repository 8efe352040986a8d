# SPDX-License-Identifier: MIT
"""The survey's private apt configuration and cache layout.

Everything the survey downloads or builds lives under CACHE
(HOTPATCH_SURVEY_CACHE, default /var/cache/hotpatch/survey): apt's lists
and downloads (apt/), hotpatch's own build cache (the --cache of every
build: build root, sources, the package builds), the debootstrapped roots
with the older versions installed (real/), bundles and logs.
"""
import glob
import os
import subprocess

CACHE = os.environ.get("HOTPATCH_SURVEY_CACHE", "/var/cache/hotpatch/survey")
APT = os.path.join(CACHE, "candidates-apt")  # not "apt": hotpatch --cache uses that
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SOURCES = f"""Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: {KEYRING}

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: {KEYRING}
"""


def apt_env():
    """apt options for a configuration of our own: own sources, state, cache."""
    for d in ("lists/partial", "archives/partial", "etc/sources.list.d", "etc/preferences.d"):
        os.makedirs(os.path.join(APT, d), exist_ok=True)
    with open(os.path.join(APT, "etc/survey.sources"), "w") as f:
        f.write(SOURCES)
    status = os.path.join(APT, "status")
    open(status, "a").close()
    return ["-o", "Dir::Etc::SourceList=/dev/null",
            "-o", f"Dir::Etc::SourceParts={APT}/etc",
            "-o", f"Dir::Etc::Preferences={APT}/etc/none",
            "-o", f"Dir::Etc::PreferencesParts={APT}/etc/preferences.d",
            "-o", f"Dir::State={APT}", "-o", f"Dir::State::Lists={APT}/lists",
            "-o", f"Dir::State::status={status}",
            "-o", f"Dir::Cache={APT}", "-o", f"Dir::Cache::Archives={APT}/archives"]


def apt_update():
    subprocess.run(["apt-get", *apt_env(), "-q", "update"], check=True,
                   stdout=subprocess.DEVNULL)


def sources_versions(suite):
    """source name -> newest version in SUITE's Sources index."""
    out = {}
    for path in glob.glob(f"{APT}/lists/*_dists_{suite}_main_source_Sources*"):
        name = None
        # the lists may be stored compressed (lz4): apt's helper reads any
        text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], check=True,
                              capture_output=True, text=True).stdout
        if True:
            for line in text.splitlines():
                if line.startswith("Package: "):
                    name = line.split()[1]
                elif line.startswith("Version: ") and name:
                    v = line.split()[1]
                    if name not in out or subprocess.run(
                            ["dpkg", "--compare-versions", v, "gt", out[name]]).returncode == 0:
                        out[name] = v
    return out
