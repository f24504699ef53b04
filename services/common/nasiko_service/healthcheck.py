"""Container health probe: `python -m nasiko_service.healthcheck URL`.

The slim base images have no curl; the standard library is enough. Exits 0
on a 2xx answer, 1 otherwise, printing why (Docker keeps it in the health log).
"""

import sys
import urllib.error
import urllib.request


def probe(url: str, timeout: float = 4.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if 200 <= response.status < 300 else 1
    except urllib.error.HTTPError as exc:
        print(f"{url}: HTTP {exc.code}: {exc.read(500).decode(errors='replace')}")
    except Exception as exc:
        print(f"{url}: {exc}")
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m nasiko_service.healthcheck URL")
    sys.exit(probe(sys.argv[1]))
