#!/usr/bin/env python3
"""FEBRL through the real dedup job: each dataset is loaded into a fresh SQLite CRM in the generic
schema and deduplicated by `crm-hygiene run JOB --dry-run --json`; precision/recall/F1 count the
within-cluster pairs of the clusters the job would merge automatically (`decision: auto`).

usage: bench/febrl_db.py CRM_HYGIENE_BIN CRMH_FIXTURE_BIN [--with-ssn] [--product-defaults]

The committed benchmark configuration is bench/febrl.yaml's job `febrl` (pure Fellegi–Sunter:
the CRM guards off, because FEBRL has no households and no emails/phones); --product-defaults
runs the job with the shipped defaults instead (household guard and identifier guard on).
"""
import csv
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

FEBRL = "/work/shared/datasets/febrl"
HERE = os.path.dirname(os.path.abspath(__file__))


def load(path, rows):
    db = sqlite3.connect(path)
    for t in ("activities", "deals", "contact_tags", "contacts"):
        db.execute(f"DELETE FROM {t}")
    db.execute("ALTER TABLE contacts ADD COLUMN soc_sec_id TEXT")
    for i, r in enumerate(rows, start=1):
        street = " ".join(x for x in (r["street_number"], r["address_1"]) if x)
        db.execute(
            "INSERT INTO contacts (id, first_name, last_name, address1, address2, city, postcode, "
            "region, birthdate, soc_sec_id, created_at, updated_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2020-01-01 00:00:00', '2020-01-01 00:00:00')",
            (i, r["given_name"], r["surname"], street, r["address_2"], r["suburb"], r["postcode"],
             r["state"], r["date_of_birth"], r["soc_sec_id"]))
    db.commit()
    db.close()


def read(names):
    rows = []
    for n in names:
        with open(os.path.join(FEBRL, n), newline="") as f:
            for r in csv.DictReader(f, skipinitialspace=True):
                rows.append({k.strip(): (v or "").strip() for k, v in r.items()})
    return rows


def true_pairs(rows):
    groups = {}
    for i, r in enumerate(rows, start=1):
        groups.setdefault(r["rec_id"].split("-")[1], []).append(str(i))
    return {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}


def main():
    binary, fixture = sys.argv[1], sys.argv[2]
    ssn = "--with-ssn" in sys.argv
    job = "defaults" if "--product-defaults" in sys.argv else "febrl"
    datasets = [("dataset1", ["dataset1.csv"]), ("dataset2", ["dataset2.csv"]),
                ("dataset3", ["dataset3.csv"]), ("dataset4a+4b", ["dataset4a.csv", "dataset4b.csv"])]
    print(f"| dataset | ssn | job | records | candidate pairs | reduction ratio | auto pairs | "
          f"review clusters | precision | recall | F1 | run |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, files in datasets:
        rows = read(files)
        d = tempfile.mkdtemp(prefix="febrl_")
        path = os.path.join(d, "crm.db")
        subprocess.run([fixture, "sqlite", path, "1"], check=True, capture_output=True)
        load(path, rows)
        cfg = os.path.join(d, "crm.yaml")
        with open(os.path.join(HERE, "febrl.yaml")) as f:
            text = f.read().replace("@DB@", path).replace("@STATE@", os.path.join(d, "state"))
        if not ssn:
            text = text.replace("  extra: [soc_sec_id]\n", "")
        with open(cfg, "w") as f:
            f.write(text)
        t0 = time.monotonic()
        p = subprocess.run([binary, "--config", cfg, "--log-level", "warn", "run", job, "--dry-run",
                            "--json"], capture_output=True, text=True)
        secs = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"{name}: exit {p.returncode}\n{p.stderr}")
        rep = json.loads(p.stdout)
        truth = true_pairs(rows)
        found = set()
        review = 0
        for c in rep["clusters"]:
            if c["decision"] != "auto":
                review += 1
                continue
            found |= {tuple(sorted(x)) for x in itertools.combinations(c["members"], 2)}
        tp = len(found & truth)
        prec = tp / len(found) if found else 1.0
        rec = tp / len(truth)
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        c = rep["counts"]
        print(f"| {name} | {'yes' if ssn else 'no'} | {job} | {len(rows)} | {c['candidate_pairs']} | "
              f"{c['reduction_ratio']:.4f} | {len(found)} | {review} | {prec:.4f} | {rec:.4f} | "
              f"**{f1:.4f}** | {secs:.1f} s |")


if __name__ == "__main__":
    main()
