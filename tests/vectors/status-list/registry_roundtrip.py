#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Real status lists from unioncard-registryd, checked by the independent verifier against the
registry's own database (no project code is imported; the C++ programs are only run).

    /usr/bin/python3 tests/vectors/status-list/registry_roundtrip.py UNIONCARD REGISTRYD \
        [--members N] [--keep DIR] [--save-vectors DIR]

Seeds a small union in a fresh SQLite file, starts the daemon over plain HTTP on loopback with
--status-interval 1, and then:
  * every snapshot verifies, and its decoded content equals the cards table row by row: each
    card's state mapped as docs/status-list.md says (validityOf), every other covered serial
    valid, and each region's issuedUpTo compared with the highest serial of its cards;
  * events (produced in a region the seed left empty, handed over, revoked, suspended,
    refused, reinstated, lost) are posted; each delta applied to the previous list gives exactly
    the next snapshot (one delta per step, and one delta across both steps);
  * the status-signing key is rotated (daemon restarted): the next delta must carry key 14 and
    still apply;
  * the verifier refuses a different root, a flipped byte anywhere in a snapshot and a delta,
    a delta given to the wrong base, and a wrong expectation.
Prints one line per check and "N passed, M failed"; exit 1 if any failed.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERIFIER = HERE.parent.parent / "integration" / "registry" / "verify_status_list.py"
sys.path.insert(0, str(VERIFIER.parent))
import verify_status_list as vsl  # noqa: E402

PY = "/usr/bin/python3"
# docs/status-list.md "What it says": validityOf() in model.hpp
VALIDITY = {"produced": "valid", "handed_over": "valid", "suspended": "suspended",
            "refused": "suspended", "spoiled": "revoked", "lost": "revoked", "revoked": "revoked",
            "replaced": "revoked"}

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{name}: {'ok' if ok else 'FAIL'}{'' if ok else ' ' + str(detail)[:2000]}", flush=True)
    passed += bool(ok)
    failed += not ok
    return ok


def luhn_number(region, serial):
    body = "9643%02d%09d" % (region, serial)
    s = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        s += d
    return body + str((10 - s % 10) % 10)


class Rig:
    def __init__(self, unioncard, registryd, work, members):
        self.unioncard, self.registryd, self.work = unioncard, registryd, Path(work)
        self.db_path = self.work / "registry.db"
        self.db = f"sqlite:{self.db_path}"
        self.env = dict(os.environ, UNIONCARD_PASSPHRASE="h5-roundtrip-passphrase")
        self.proc = None
        self.keyseq = 0
        self.run(unioncard, "keys", "init-root", "--out", "root", "--name", "Roundtrip root")
        self.run(unioncard, "keys", "init-root", "--out", "other", "--name", "Another root")
        self.run(unioncard, "keys", "issue-status-signer", "--root", "root", "--out", "status")
        self.run(registryd, "seed", "--db", self.db, "--members", str(members))
        self.verifier = self.run(registryd, "device", "add", "--db", self.db, "--id", "vf-01",
                                 "--role", "verifier").strip()
        self.admin = self.run(registryd, "device", "add", "--db", self.db, "--id", "office-admin",
                              "--role", "admin").strip()

    def run(self, *args):
        p = subprocess.run([str(a) for a in args], cwd=self.work, env=self.env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, args))}: exit {p.returncode}: {p.stderr}")
        return p.stdout

    def start(self, status_dir="status"):
        out = open(self.work / "daemon.out", "w")
        err = open(self.work / "daemon.err", "w")
        self.proc = subprocess.Popen(
            [self.registryd, "--db", self.db, "--listen", "127.0.0.1:0", "--plain-http",
             "--status-key", f"{status_dir}/status-key.pem",
             "--status-cert", f"{status_dir}/status-cert.pem", "--root-cert", "root/root-cert.pem",
             "--status-interval", "1", "--quiet"],
            cwd=self.work, env=self.env, stdout=out, stderr=err)
        for _ in range(200):
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)",
                          (self.work / "daemon.out").read_text())
            if m:
                self.base = f"http://127.0.0.1:{m.group(1)}"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("the daemon did not start: " + (self.work / "daemon.err").read_text()
                           + (self.work / "daemon.out").read_text())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def http(self, token, method, path, body=None):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"Bearer {token}"})
        if body is not None:
            req.data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def snapshot(self, name):
        code, headers, data = self.http(self.verifier, "GET", "/v1/status-list")
        if code != 200:
            raise RuntimeError(f"GET /v1/status-list: HTTP {code}: {data[:300]!r}")
        (self.work / name).write_bytes(data)
        return int(headers.get("X-Status-List-Version")), self.work / name

    def delta(self, since, name):
        path = f"/v1/status-list/delta?since={since}"
        code, headers, data = self.http(self.verifier, "GET", path)
        if code != 200:
            raise RuntimeError(f"GET delta since {since}: HTTP {code}: {data[:300]!r}")
        (self.work / name).write_bytes(data)
        return int(headers.get("X-Status-List-Version")), self.work / name

    def event(self, kind, number, member, seq=1, application=None):
        self.keyseq += 1
        body = {"idempotency_key": f"h5-roundtrip-{self.keyseq:06d}", "kind": kind,
                "card_number": number, "member_id": member, "station": "office-admin",
                "operator": "op-h5", "at": "2026-11-22T10:32:00Z", "card_sequence": seq,
                "reason": "roundtrip test"}
        if application:
            body["application_id"] = application
        code, _, data = self.http(self.admin, "POST", "/v1/events", body)
        if code not in (200, 201):
            raise RuntimeError(f"event {kind} {number}: HTTP {code}: {data[:300]!r}")

    def cards(self):
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as c:
            return [(r, s, st, m, q) for r, s, st, m, q in c.execute(
                "SELECT region, serial, state, member_id, card_sequence FROM cards")]


def verify_cli(*args):
    p = subprocess.run([PY, str(VERIFIER), *map(str, args)], capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def decoded(root_pem, snapshot, deltas=()):
    root = vsl.load_root(root_pem)
    now = vsl.dt.datetime.utcnow()
    held = vsl.load_snapshot(Path(snapshot).read_bytes(), root, now)
    for d in deltas:
        held = vsl.apply_delta(held, Path(d).read_bytes(), root, now)
    return held


def content(held):
    return ([(r.code, r.top) for r in held.regions], bytes(held.states))


def compare_with_db(name, held, cards):
    """Every card's validity and every other covered serial valid; issuedUpTo vs the cards."""
    problems = []
    expect = {}
    tops = {}
    for region, serial, state, _, _ in cards:
        expect[(region, serial)] = VALIDITY[state]
        tops[region] = max(tops.get(region, 0), serial)
    listed = {}
    for r in held.regions:
        for serial in range(r.top + 1):
            s = held.states[r.start + serial]
            if s:
                listed[(r.code, serial)] = vsl.STATE_NAMES[s]
    for key, want in expect.items():
        got = held.lookup(*key)
        if got != want:
            problems.append(f"{key[0]}/{key[1]}: list says {got}, database {want}")
    for key, got in listed.items():
        if key not in expect:
            problems.append(f"{key[0]}/{key[1]}: listed {got} but no such card")
    region_tops = {r.code: r.top for r in held.regions}
    if region_tops != tops:
        diff = {k: (region_tops.get(k), tops.get(k)) for k in set(tops) | set(region_tops)
                if region_tops.get(k) != tops.get(k)}
        problems.append(f"issuedUpTo differs from the highest card serial (list, db): {diff}")
    check(f"{name}: {len(expect)} cards and {held.total} covered positions match the database",
          not problems, "; ".join(problems[:10]))


def m_choice_followed(name, path):
    """docs/status-list.md "Choice of M": the encoder's M (keys 9 and 12) is the documented one.
    Not a verification step (a reader accepts any M in 1..2^40): a check of the encoder."""
    env = vsl.parse_envelope(Path(path).read_bytes())
    m = vsl.cbor2.loads(env.payload)
    delta = m[2] == 2
    found = []
    if m[8]:
        idx = [i for i, _ in vsl.decode_sequence(m[10], m[9], m[8], 1 << 62, "k", delta)]
        found.append(("key 9", m[9], vsl.documented_golomb_m(gaps_of(idx))))
    if not delta and m[11]:
        idx = [i for i, _ in vsl.decode_sequence(m[13], m[12], m[11], m[8], "k")]
        found.append(("key 12", m[12], vsl.documented_golomb_m(gaps_of(idx))))
    check(f"{name}: M as documented ({', '.join(f'{k} {a}, rule {b}' for k, a, b in found)})",
          all(a == b for _, a, b in found))


def gaps_of(indexes):
    out, prev = [], -1
    for i in indexes:
        out.append(i - prev - 1)
        prev = i
    return out


def flips_refused(name, root_pem, snapshot, deltas, target):
    """Flip one bit in each byte of `target` (the snapshot or one delta); none may verify."""
    data = Path(target).read_bytes()
    root = vsl.load_root(root_pem)
    now = vsl.dt.datetime.utcnow()
    base = None
    if target != snapshot:
        base = vsl.load_snapshot(Path(snapshot).read_bytes(), root, now)
        for d in deltas:
            if d == target:
                break
            base = vsl.apply_delta(base, Path(d).read_bytes(), root, now)
    codes = {}
    accepted = []
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x01
        try:
            vsl.load_or_apply(base, bytes(bad), root, now)
            accepted.append(i)
        except vsl.Refused as exc:
            codes[exc.code] = codes.get(exc.code, 0) + 1
    summary = ", ".join(f"{k} x{v}" for k, v in sorted(codes.items()))
    check(f"{name}: each of {len(data)} single-bit flips refused ({summary})", not accepted,
          f"still verify after flipping bytes {accepted[:20]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("unioncard")
    ap.add_argument("registryd")
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--keep", help="work in this folder and leave it")
    ap.add_argument("--save-vectors", help="copy the lists and root certificates here")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="h5-roundtrip-"))
    work.mkdir(parents=True, exist_ok=True)
    rig = Rig(Path(args.unioncard).resolve(), Path(args.registryd).resolve(), work, args.members)
    try:
        rig.start()
        root_pem = (work / "root/root-cert.pem").read_bytes()
        other = work / "other/root-cert.pem"
        root = work / "root/root-cert.pem"

        v0, s0 = rig.snapshot("snapshot-0.cose")
        cards0 = rig.cards()
        rc, out, err = verify_cli(s0, root)
        check(f"snapshot v{v0} ({s0.stat().st_size} bytes) verifies: {out}", rc == 0, err)
        held0 = decoded(root_pem, s0)
        compare_with_db(f"snapshot v{v0}", held0, cards0)
        step = max(1, len(cards0) // 40)
        sample = [f"{r}:{s}:{VALIDITY[st]}" for r, s, st, _, _ in cards0[::step]]
        covered = {r.code for r in held0.regions}
        absent = [r for r in range(1, 90) if r not in covered]
        top23 = next(r.top for r in held0.regions if r.code == 23) if 23 in covered else 0
        sample += [f"{absent[0]}:1:uncovered", f"23:{top23 + 1}:uncovered"] if absent else []
        rc, out, err = verify_cli(s0, root, *sample)
        check(f"snapshot v{v0}: {len(sample)} expectations through the command line", rc == 0, err)
        rc, out, err = verify_cli(s0, root, "--print-regions")
        want = ",".join(f"{r.code}:{r.top}" for r in held0.regions)
        check("--print-regions lists every covered region", rc == 0 and out == want, out + err)
        rc, out, err = verify_cli(s0, other)
        check("another root is refused (exit 1, untrusted_signer)",
              rc == 1 and "untrusted_signer" in err, f"rc {rc} {err}")
        some = next((c for c in cards0 if VALIDITY[c[2]] == "valid"), None)
        rc, out, err = verify_cli(s0, root, f"{some[0]}:{some[1]}:revoked")
        check("a wrong expectation fails (exit 1)", rc == 1 and "expected revoked" in err, err)
        flips_refused(f"snapshot v{v0}", root_pem, s0, [], s0)

        # --- step 1: new cards in a region the seed left empty, and changes to old cards
        new_region = absent[0] if absent else None
        code, _, data = rig.http(rig.admin, "GET", "/v1/applications?limit=50")
        apps = json.loads(data)["items"] if code == 200 else []
        check("pending applications to produce cards for", len(apps) >= 3, data[:300])
        by_state = {}
        for c in cards0:
            by_state.setdefault(c[2], []).append(c)
        produced = []
        if new_region:
            code, _, data = rig.http(rig.admin, "POST", "/v1/leases",
                                     {"region": new_region, "count": 3})
            check(f"a lease in region {new_region}", code in (200, 201), data[:300])
            first = json.loads(data)["first_serial"]
            for i, app in enumerate(apps[:3]):
                num = luhn_number(new_region, first + i)
                rig.event("produced", num, app["member_id"], app["card_sequence"], app["id"])
                produced.append((num, app))
            rig.event("handed_over", produced[0][0], produced[0][1]["member_id"],
                      produced[0][1]["card_sequence"])
            rig.event("refused", produced[1][0], produced[1][1]["member_id"],
                      produced[1][1]["card_sequence"])
        ho = by_state.get("handed_over", [])
        for kind, c in (("revoked", ho[0]), ("suspended", ho[1]), ("lost", ho[2])):
            rig.event(kind, luhn_number(c[0], c[1]), c[3], c[4])
        time.sleep(1.2)  # --status-interval 1
        v1, s1 = rig.snapshot("snapshot-1.cose")
        cards1 = rig.cards()
        vd1, d1 = rig.delta(v0, "delta-0-1.cose")
        check(f"delta v{v0}->v{vd1} is for the newest snapshot v{v1}", vd1 == v1)
        held1 = decoded(root_pem, s1)
        compare_with_db(f"snapshot v{v1}", held1, cards1)
        applied = decoded(root_pem, s0, [d1])
        check(f"snapshot v{v0} + delta ({d1.stat().st_size} bytes) equals snapshot v{v1}",
              content(applied) == content(held1) and applied.version == held1.version)
        if new_region:
            check(f"the delta brings region {new_region} in (key 6)",
                  any(r.code == new_region for r in applied.regions))
        rc, out, err = verify_cli(s0, root, "--delta", d1, "--print-regions")
        want = ",".join(f"{r.code}:{r.top}" for r in held1.regions)
        check("--delta ... --print-regions gives the new snapshot's regions",
              rc == 0 and out == want, out + err)
        rc, out, err = verify_cli(s1, root, "--delta", d1)
        check("a delta given to the wrong base: base_mismatch (exit 1)",
              rc == 1 and "base_mismatch" in err, f"rc {rc} {err}")
        flips_refused(f"delta v{v0}->v{v1}", root_pem, s0, [d1], d1)

        # --- step 2: more changes, including undoing a suspension and new cards in region 23
        rig.event("reinstated", luhn_number(ho[1][0], ho[1][1]), ho[1][3], ho[1][4])
        refused = by_state.get("refused", [])
        if refused:
            rig.event("handed_over", luhn_number(refused[0][0], refused[0][1]), refused[0][3],
                      refused[0][4])
        code, _, data = rig.http(rig.admin, "POST", "/v1/leases", {"region": 23, "count": 2})
        first = json.loads(data)["first_serial"]
        apps23 = apps[3:5]
        for i, app in enumerate(apps23):
            rig.event("produced", luhn_number(23, first + i), app["member_id"],
                      app["card_sequence"], app["id"])
        if apps23:
            rig.event("spoiled", luhn_number(23, first), apps23[0]["member_id"],
                      apps23[0]["card_sequence"])
        time.sleep(1.2)
        v2, s2 = rig.snapshot("snapshot-2.cose")
        cards2 = rig.cards()
        _, d2 = rig.delta(v1, "delta-1-2.cose")
        _, d02 = rig.delta(v0, "delta-0-2.cose")
        held2 = decoded(root_pem, s2)
        compare_with_db(f"snapshot v{v2}", held2, cards2)
        check(f"v{v0} + two deltas equals snapshot v{v2}",
              content(decoded(root_pem, s0, [d1, d2])) == content(held2))
        check(f"v{v0} + one delta to v{v2} equals snapshot v{v2}",
              content(decoded(root_pem, s0, [d02])) == content(held2))

        # --- step 3: a rotated status-signing key
        rig.stop()
        rig.run(rig.unioncard, "keys", "issue-status-signer", "--root", "root", "--out",
                "status2")
        rig.start("status2")
        c = ho[3]
        rig.event("revoked", luhn_number(c[0], c[1]), c[3], c[4])
        time.sleep(1.2)
        v3, s3 = rig.snapshot("snapshot-3.cose")
        _, d3 = rig.delta(v2, "delta-2-3.cose")
        held3 = decoded(root_pem, s3)
        cards3 = rig.cards()
        compare_with_db(f"snapshot v{v3} (rotated key)", held3, cards3)
        raw = vsl.cbor2.loads(vsl.parse_envelope(d3.read_bytes()).payload)
        check("the delta after the rotation carries key 14", 14 in raw, sorted(raw))
        raw1 = vsl.cbor2.loads(vsl.parse_envelope(d1.read_bytes()).payload)
        check("a delta from the same signer leaves key 14 out", 14 not in raw1, sorted(raw1))
        chain = [d1, d2, d3]
        check("v0 + three deltas across the rotation equals the newest snapshot",
              content(decoded(root_pem, s0, chain)) == content(held3))
        rc, out, err = verify_cli(s0, root, *sum((["--delta", d] for d in chain), []),
                                  f"{c[0]}:{c[1]}:revoked")
        check("the command line applies the three deltas", rc == 0, err)
        flips_refused(f"delta v{v2}->v{v3} (rotated)", root_pem, s0, chain, d3)

        # --- step 4: after the rotation, a delta from the new signer leaves key 14 out again
        # and is checked with the certificate the previous delta brought; a lease of 5 with
        # only 1 card produced shows what "issuedUpTo" follows (the card, not the lease)
        code, _, data = rig.http(rig.admin, "POST", "/v1/leases", {"region": 23, "count": 5})
        first = json.loads(data)["first_serial"]
        app = apps[5]
        rig.event("produced", luhn_number(23, first), app["member_id"], app["card_sequence"],
                  app["id"])
        rig.event("handed_over", luhn_number(23, first), app["member_id"], app["card_sequence"])
        rig.event("suspended", luhn_number(23, first), app["member_id"], app["card_sequence"])
        time.sleep(1.2)
        v4, s4 = rig.snapshot("snapshot-4.cose")
        _, d4 = rig.delta(v3, "delta-3-4.cose")
        held4 = decoded(root_pem, s4)
        cards4 = rig.cards()
        compare_with_db(f"snapshot v{v4} (lease of 5, 1 card produced)", held4, cards4)
        raw4 = vsl.cbor2.loads(vsl.parse_envelope(d4.read_bytes()).payload)
        check("the next delta from the rotated signer leaves key 14 out", 14 not in raw4,
              sorted(raw4))
        chain = [d1, d2, d3, d4]
        check("v0 + four deltas (the last verified with the certificate of the third)",
              content(decoded(root_pem, s0, chain)) == content(held4))

        for f in (s0, s1, s2, s3, s4, d1, d2, d02, d3, d4):
            m_choice_followed(f.name, f)

        if args.save_vectors:
            out_dir = Path(args.save_vectors)
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(root, out_dir / "root-cert.pem")
            shutil.copy(other, out_dir / "other-root-cert.pem")
            for f in (s0, s1, s2, s3, s4, d1, d2, d02, d3, d4):
                shutil.copy(f, out_dir / f.name)
            # what the database held for each snapshot: every card's validity and each
            # region's highest serial (the ground truth the self-test checks the lists against)
            for f, cards in ((s0, cards0), (s1, cards1), (s2, cards2), (s3, cards3),
                             (s4, cards4)):
                tops = {}
                for r, sr, _, _, _ in cards:
                    tops[r] = max(tops.get(r, 0), sr)
                lines = [",".join(f"{r}:{t}" for r, t in sorted(tops.items()))]
                lines += [f"{r}:{sr}:{VALIDITY[st]}" for r, sr, st, _, _ in sorted(cards)]
                (out_dir / (f.stem + ".expect")).write_text("\n".join(lines) + "\n")
            print(f"saved vectors to {out_dir}")
    finally:
        rig.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
