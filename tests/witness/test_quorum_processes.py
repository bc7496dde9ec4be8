"""A log and its witnesses in their own processes, exchanging checkpoints over HTTP (protocol §8)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from signing.checkpoint import Checkpoint
from signing.cosignature import WitnessPolicy
from signing.note import Verifier
from tests.factories import Farm
from tests.servers import Server, free_port

from .quorum import ADMIN_TOKEN, NAMES, eventually, log_env, quorum


def served_size(client: httpx.Client) -> int:
    response = client.get("/log/checkpoint")
    return int(response.text.split("\n")[1]) if response.status_code == 200 else -1


def verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "traceability", "verify", *args], capture_output=True, text=True)


def test_appends_are_cosigned_by_the_quorum_and_every_verifier_asks_for_it(tmp_path: Path) -> None:
    with quorum(tmp_path / "q") as q, httpx.Client(base_url=q.log.url, timeout=30) as client:
        farm = Farm(client, ADMIN_TOKEN)
        grower = farm.grower()
        lot = farm.batch(grower)["lot"]
        appended = farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"})
        # 1. Covered within 5 s: the checkpoint served carries the log's line, then all three cosignatures.
        eventually(lambda: served_size(client) > appended["index"], 5, "cosigning the append")
        note = client.get("/log/checkpoint").text
        vkeys = [w.vkey for w in q.witnesses]
        log_key = Verifier.from_key_string(q.log_vkey)
        cosigned = WitnessPolicy.of(vkeys).verify(note, log_key)
        assert cosigned.witnesses == list(NAMES)
        assert note.split("\n\n", 1)[1].startswith(f"\u2014 {log_key.name} ")
        # 2. Proofs for that size work.
        size = cosigned.checkpoint.size
        assert client.get("/log/proof/consistency", params={"old": 1, "new": size}).status_code == 200
        # 3. The bundle carries the cosigned checkpoint; the page names the witnesses, in both languages.
        bundle = eventually(
            lambda: (b := client.get(f"/b/{lot}/proof.json").json())["checkpoint"].count("\u2014") == 4 and b
        )
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle))
        zh = client.get(f"/b/{lot}", params={"lang": "zh"}).text
        assert f"由 {NAMES[0]} 等 3 个见证方共同签署" in zh
        assert f"cosigned by {NAMES[0]} and 2 other witnesses" in client.get(f"/b/{lot}", params={"lang": "en"}).text
        # 4. Verifiers: a bundle with two witnesses of the three, a quorum of two, passes; a
        # witness key not among the cosigners leaves it one short.
        two = ["--witness", vkeys[0], "--witness", vkeys[1], "--quorum", "2"]
        passed = verify(str(path), "--log-key", q.log_vkey, *two)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "checkpoint cosigned by 2 witnesses" in passed.stdout
        stranger = (tmp_path / "stranger").as_posix()
        unknown = subprocess.run(
            [
                sys.executable,
                "-m",
                "traceability",
                "witness",
                "key",
                "--data",
                stranger,
                "--name",
                "stranger.example/w",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        failed = verify(
            str(path), "--log-key", q.log_vkey, "--witness", vkeys[0], "--witness", unknown, "--quorum", "2"
        )
        assert failed.returncode == 1
        assert "1 valid cosignatures of the 2 needed" in failed.stderr
        whole = verify("--server", q.log.url, "--log-key", q.log_vkey, *two, "--state", str(tmp_path / "state.json"))
        assert whole.returncode == 0, whole.stdout + whole.stderr


def test_a_stopped_witness_holds_back_the_cosigned_checkpoint_not_the_appends(tmp_path: Path) -> None:
    with quorum(tmp_path / "q") as q, httpx.Client(base_url=q.log.url, timeout=30) as client:
        farm = Farm(client, ADMIN_TOKEN)
        grower = farm.grower()
        regulator = farm.regulator()
        lot = farm.batch(grower)["lot"]
        eventually(lambda: served_size(client) >= 3, 5, "the first cosigning")
        stopped = q.witnesses[1]
        stopped.stop()
        started = time.monotonic()
        last = [farm.event(grower, lot, "harvest", {"quantity": i + 1, "unit": "kg"}) for i in range(5)][-1]
        assert time.monotonic() - started < 5  # appends do not wait for a dead witness
        time.sleep(2)
        assert served_size(client) <= last["index"]  # the quorum (all three) is not reached
        audit = client.get("/api/v1/audit/witnesses", headers=regulator.headers).json()
        failing = [w for w in audit["witnesses"] if w["failing"]]
        assert [w["name"] for w in failing] == [stopped.name] and "cannot reach" in failing[0]["error"]
        with httpx.Client(base_url=q.log.url, timeout=30) as browser:
            signed_in = browser.post("/audit/sign-in?lang=en", data={"token": regulator.token}, follow_redirects=True)
            assert signed_in.status_code == 200
            page = browser.get("/audit?lang=en").text
        assert stopped.name in page and stopped.vkey in page and "failing:" in page and "cannot reach" in page
        # What is served reached the quorum, and lags the log.
        assert "reached the quorum" in page and f"of {last['index'] + 1} entries" in page
        # The page says it is not cosigned yet.
        assert "not yet cosigned" in client.get(f"/b/{lot}", params={"lang": "en"}).text
        stopped.start()
        eventually(lambda: served_size(client) > last["index"], 5, "catching up after the restart")
        audit = client.get("/api/v1/audit/witnesses", headers=regulator.headers).json()
        assert audit["served"]["quorum_reached"] and not any(w["failing"] for w in audit["witnesses"])
        # The page rendered before cosigning does not stay "not yet cosigned".
        eventually(lambda: "and 2 other witnesses" in client.get(f"/b/{lot}", params={"lang": "en"}).text, 5)


def test_a_fork_of_the_log_is_refused_by_the_witnesses_and_by_verify(tmp_path: Path) -> None:
    with quorum(tmp_path / "q", quorum=2) as q, httpx.Client(base_url=q.log.url, timeout=30) as client:
        farm = Farm(client, ADMIN_TOKEN)
        grower = farm.grower()
        lot = farm.batch(grower)["lot"]
        eventually(lambda: served_size(client) >= 2, 5, "the first cosigning")
        q.log.stop()  # a consistent copy of its database, with the same key and origin
        fork_data = tmp_path / "fork"
        shutil.copytree(tmp_path / "q" / "log", fork_data)
        port = int(q.log.url.rsplit(":", 1)[1])
        q.log = Server(log_env(tmp_path / "q" / "log", port, q.witnesses, 2), 1, tmp_path / "log2.log", port=port)
        farm.event(grower, lot, "harvest", {"quantity": 1, "unit": "kg"})
        eventually(lambda: served_size(client) >= 3, 5, "cosigning the log's own history")
        vkeys = [w.vkey for w in q.witnesses]
        two = ["--witness", vkeys[0], "--witness", vkeys[1], "--quorum", "2"]
        state = str(tmp_path / "monitor.json")
        seen = verify("--server", q.log.url, "--log-key", q.log_vkey, *two, "--state", state)
        assert seen.returncode == 0, seen.stdout + seen.stderr
        q.log.stop()
        # The fork serves on the log's address, with a history of its own from size 2.
        fork = Server(log_env(fork_data, port, q.witnesses, 2), 1, tmp_path / "fork.log", port=port)
        try:
            forked = Farm(client, ADMIN_TOKEN)
            forked.event(grower, lot, "harvest", {"quantity": 999, "unit": "kg"})
            time.sleep(2.5)
            regulator = forked.regulator()
            audit = client.get("/api/v1/audit/witnesses", headers=regulator.headers).json()
            errors = " ".join(w["error"] or "" for w in audit["witnesses"])
            assert "HTTP 422" in errors or "beyond this log's size" in errors, audit
            note = client.get("/log/checkpoint").text
            assert Checkpoint.parse(note.split("\n\n")[0] + "\n").size == 2  # still the last cosigned one
            # The fork can serve no checkpoint of its own history that the witnesses cosigned:
            # a monitor that saw the log sees it go back, and says so.
            monitored = verify("--server", q.log.url, "--log-key", q.log_vkey, *two, "--state", state)
            assert monitored.returncode == 1 and "shrank from 3 to 2" in monitored.stderr
            # A verifier given the fork's own checkpoint (log-signed, never cosigned) refuses it.
            bundle = client.get(f"/b/{lot}/proof.json").json()
            path = tmp_path / "fork-bundle.json"
            path.write_text(json.dumps(bundle))
            refused = verify(
                str(path), "--log-key", q.log_vkey, "--witness", vkeys[0], "--witness", vkeys[1], "--quorum", "2"
            )
            assert refused.returncode == 1 and "0 valid cosignatures of the 2 needed" in refused.stderr
        finally:
            fork.stop()


def test_a_wrong_witness_list_stops_the_start_saying_why(tmp_path: Path) -> None:
    port = free_port()
    env = {**log_env(tmp_path, port), "SUYUAN_WITNESSES": "not-a-vkey@http://127.0.0.1:1"}
    done = subprocess.run(
        [sys.executable, "-m", "traceability", "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SUYUAN_WITNESSES entry 1" in done.stdout + done.stderr
