import os
import shutil
import tarfile

import pytest

from orchestrator.context_hash import build_context_archive, context_files, context_hash
from orchestrator.validate import InvalidAgent

ISSUE_CONTEXT = ["Dockerfile", "src/app.py", "src/403.html", "src/.env", "node_modules/x/a.js", ".git/HEAD"]


def make_context(root, dockerignore):
    for relative in ISSUE_CONTEXT:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {relative}\n")
    (root / ".dockerignore").write_text(dockerignore)
    return root


def sent_files(root):
    return sorted(p for p in context_files(root) if not (root / p).is_dir())


@pytest.mark.parametrize(
    ("dockerignore", "expected"),
    [
        ("**/.*\n", [".dockerignore", "Dockerfile", "node_modules/x/a.js", "src/403.html", "src/app.py"]),
        ("*\n!src/app.py\n", [".dockerignore", "Dockerfile", "src/app.py"]),
        (
            "*.py\n",
            [
                ".dockerignore",
                ".git/HEAD",
                "Dockerfile",
                "node_modules/x/a.js",
                "src/.env",
                "src/403.html",
                "src/app.py",
            ],
        ),
    ],
    ids=["hidden-files-anywhere", "everything-but-one-file", "root-level-py-only"],
)
def test_dockerignore_selects_the_files_docker_would_send(tmp_path, dockerignore, expected):
    assert sent_files(make_context(tmp_path, dockerignore)) == expected


def test_archive_holds_exactly_the_hashed_files(tmp_path):
    root = make_context(tmp_path, "*\n!src/app.py\n")
    files = context_files(root)
    with build_context_archive(root, files) as archive, tarfile.open(fileobj=archive) as tar:
        assert sorted(m.name for m in tar.getmembers() if m.isfile()) == [
            ".dockerignore",
            "Dockerfile",
            "src/app.py",
        ]


def test_same_content_in_another_folder_gives_the_same_hash(tmp_path):
    first = make_context(tmp_path / "a", "**/.*\n")
    second = tmp_path / "b"
    shutil.copytree(first, second)
    os.utime(second / "src/app.py", (1, 1))  # times are not content
    assert context_hash(first) == context_hash(second)


def test_changing_a_sent_file_changes_the_hash(tmp_path):
    root = make_context(tmp_path, "**/.*\n")
    before = context_hash(root)
    (root / "src/app.py").write_text("print('changed')\n")
    assert context_hash(root) != before


def test_changing_an_ignored_file_keeps_the_hash(tmp_path):
    root = make_context(tmp_path, "**/.*\n")
    before = context_hash(root)
    (root / "src/.env").write_text("SECRET=other\n")
    (root / ".git/HEAD").write_text("ref: refs/heads/other\n")
    assert context_hash(root) == before


def test_renaming_a_file_changes_the_hash(tmp_path):
    root = make_context(tmp_path, "**/.*\n")
    before = context_hash(root)
    (root / "src/403.html").rename(root / "src/404.html")
    assert context_hash(root) != before


def test_making_a_file_executable_changes_the_hash(tmp_path):
    root = make_context(tmp_path, "**/.*\n")
    before = context_hash(root)
    (root / "src/app.py").chmod(0o755)
    assert context_hash(root) != before


def test_moving_bytes_between_files_changes_the_hash(tmp_path):
    # Length-prefixed contents: "ab" + "c" must not hash like "a" + "bc".
    first, second = tmp_path / "one", tmp_path / "two"
    for root, (x, y) in ((first, ("ab", "c")), (second, ("a", "bc"))):
        root.mkdir()
        (root / "Dockerfile").write_text("FROM scratch\n")
        (root / "x").write_text(x)
        (root / "y").write_text(y)
    assert context_hash(first) != context_hash(second)


def test_a_byte_order_mark_does_not_hide_the_first_pattern(tmp_path):
    """Editors on Windows start files with a BOM; Docker drops it, so `src/.env` stays out."""
    make_context(tmp_path, "")
    (tmp_path / ".dockerignore").write_bytes("\ufeffsrc/.env\n".encode())
    assert "src/.env" not in sent_files(tmp_path)


def test_a_dockerignore_that_is_not_text_is_refused(tmp_path):
    make_context(tmp_path, "")
    (tmp_path / ".dockerignore").write_bytes(b"\xff\xfe*\x00\n")
    with pytest.raises(InvalidAgent, match="not UTF-8 text"):
        context_files(tmp_path)
