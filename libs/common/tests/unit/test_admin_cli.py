"""aligned-admin as an operator types it: `--json` on either side of the subcommand, `--version`,
and a database, broker or service that does not answer is one line and exit code 69, with no
traceback and no password from the URL."""

import uuid

import pytest

from aligned_common.admin.cli import EXIT_UNREACHABLE, build_parser, main

pytestmark = pytest.mark.unit

CLOSED_PORT_DB = "postgresql://ops:s3cret@127.0.0.1:1/aligned"


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "outbox", "status"],
        ["outbox", "status", "--json"],
        ["dlq", "list", "--since", "2h", "--json"],
        ["--json", "migrations", "status", "--service", "publishing"],
    ],
)
def test_json_is_taken_before_or_after_the_subcommand(argv):
    assert build_parser().parse_args(argv).json is True


def test_without_json_the_output_is_for_people():
    assert build_parser().parse_args(["outbox", "status"]).json is False


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("aligned-admin ")


def run(argv, capsys, monkeypatch, **env) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    return int(exit_.value.code), err


def test_a_database_that_does_not_answer_is_one_line_without_the_password(capsys, monkeypatch):
    code, err = run(
        ["outbox", "status", "--service", "publishing", "--json"],
        capsys,
        monkeypatch,
        ALIGNED_ADMIN_DATABASE_URL=CLOSED_PORT_DB,
    )
    assert code == EXIT_UNREACHABLE
    assert err.startswith("aligned-admin: cannot reach the database at 127.0.0.1:1")
    assert err.count("\n") == 1 and "Traceback" not in err and "s3cret" not in err


def test_a_broker_that_does_not_answer_is_one_line(capsys, monkeypatch):
    code, err = run(["dlq", "list"], capsys, monkeypatch, ALIGNED_KAFKA_BOOTSTRAP="127.0.0.1:1")
    assert code == EXIT_UNREACHABLE
    assert err.startswith("aligned-admin: cannot reach Kafka at 127.0.0.1:1")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_service_that_does_not_answer_is_one_line(capsys, monkeypatch):
    some = str(uuid.uuid4())
    code, err = run(
        [
            "publishing",
            "show",
            "--job",
            some,
            "--tenant",
            some,
            "--brand",
            some,
            "--url",
            "http://127.0.0.1:1",
        ],
        capsys,
        monkeypatch,
        ALIGNED_INTERNAL_SECRET="x" * 32,
    )
    assert code == EXIT_UNREACHABLE
    assert err.startswith("aligned-admin: cannot reach the service at http://127.0.0.1:1")
    assert err.count("\n") == 1 and "Traceback" not in err
