#!/usr/bin/env python3
"""Interleaved A/B of repeated 1M dedup dry runs (docs/benchmarks.md, session 10).

usage: bench/dedup_dry_ab.py --work=DIR TAG:BINARY [TAG:BINARY ...] [--rounds=N]

DIR is a bench/dedup_scale.py work directory whose server runs (--keep-server): its
crm-1000000.yaml and mariadb/; each binary runs with its own sweep cache (DIR/state-ab-TAG),
filled by one unreported run first. Each round runs every binary once, `run dedup --dry-run --json`
under /usr/bin/time, and prints one JSON line: wall, client CPU (user+sys) in all and after the
sweep (sampled from /proc every 0.25 s, split at the "clusters in" log line), mariadbd's CPU in
all and after the sweep, sweep_seconds, wall − sweep_seconds, peak RSS. The report is kept as
DIR/ab-TAG-ROUND.json; each is compared with the first binary's of the same round (clusters,
counts but sweep_seconds, details.plan, model, pairs_by_key, message, status)."""
import json, os, re, subprocess, sys, time, datetime
tck = os.sysconf('SC_CLK_TCK')
def cpu(pid):
    try:
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) / tck
    except OSError:
        return None
work = os.path.abspath(next(a.split('=', 1)[1] for a in sys.argv if a.startswith('--work=')))
mpid = int(open(os.path.join(work, 'mariadb', 'mysqld.pid')).read().split()[0])
args = [a for a in sys.argv[1:] if not a.startswith('--')]
rounds = int(next((a.split('=')[1] for a in sys.argv if a.startswith('--rounds=')), '1'))
def result(path):
    j = json.load(open(path))
    c = dict(j['counts']); c.pop('sweep_seconds', None)
    d = j.get('details', {})
    return {'clusters': j.get('clusters'), 'counts': c, 'plan': d.get('plan'), 'model': d.get('model'),
            'pairs_by_key': d.get('pairs_by_key'), 'message': j.get('message'), 'status': j.get('status')}

# Each binary gets its own state directory (a copy of the work directory's config pointing at
# DIR/state-ab-TAG, seeded from DIR/state-1000000): binaries whose sweep cache fingerprints
# differ (another normalizer, other SQL for a field) would otherwise evict each other's cache
# and every run would be a first sweep. One unreported run of each fills its cache first.
import shutil
base_cfg = open(os.path.join(work, 'crm-1000000.yaml')).read()
def config(tag):
    path = os.path.join(work, f'crm-1000000-ab-{tag}.yaml')
    state = os.path.join(work, f'state-ab-{tag}')
    if not os.path.isdir(state):
        src = os.path.join(work, 'state-1000000')
        if os.path.isdir(src): shutil.copytree(src, state)
        else: os.makedirs(state)
    cfg = re.sub(r'state: \{directory: [^}]*\}', f'state: {{directory: {state}}}', base_cfg)
    open(path, 'w').write(cfg)
    return path
for spec in args:
    tag, binp = spec.split(':', 1)
    subprocess.run([binp, '--config', config(tag), '--log-level', 'warn', 'run', 'dedup', '--json', '--dry-run'],
                   stdout=subprocess.DEVNULL, check=True)

out = []
for r in range(rounds):
    for spec in args:
        tag, binp = spec.split(':', 1)
        js = os.path.join(work, f'ab-{tag}-{r}.json')
        la = open('/proc/loadavg').read().split()[0]
        t0 = time.time(); m0 = cpu(mpid)
        p = subprocess.Popen(['/usr/bin/time', '-f', '%e %U %S %M', binp, '--config', config(tag), '--log-level', 'info', 'run', 'dedup', '--json', '--dry-run'],
                             stdout=open(js, 'w'), stderr=open(js + '.err', 'w'))
        samples = []
        kid = None
        while p.poll() is None:
            if kid is None:
                try: kid = int(subprocess.check_output(['pgrep', '-P', str(p.pid)]).split()[0])
                except Exception: pass
            samples.append((time.time(), cpu(mpid), cpu(kid) if kid else None))
            time.sleep(0.25)
        t1 = time.time(); m1 = cpu(mpid)
        err = open(js + '.err').read()
        wall, usr, sys_, rss = err.strip().splitlines()[-1].split()
        m = re.search(r'(\S+) info: \S+ dedup: \d+ contacts, .* clusters in', err)
        ts = datetime.datetime.fromisoformat(m.group(1)).timestamp() + 0.5
        ms = [s for s in samples if s[0] <= ts]
        srv_post = m1 - ms[-1][1] if ms else None
        cli_at_sweep = ms[-1][2] if ms else None
        j = json.load(open(js))
        res = dict(tag=tag, round=r, load=la, wall=float(wall), cpu=round(float(usr) + float(sys_), 1),
                   sweep=j['counts']['sweep_seconds'], post=round(float(wall) - j['counts']['sweep_seconds'], 1),
                   server_cpu=round(m1 - m0, 1), server_cpu_post=round(srv_post, 1), client_cpu_post=round(float(usr) + float(sys_) - cli_at_sweep, 1) if cli_at_sweep is not None else None, rss_mib=int(rss) // 1024,
                   plan_rss=j['details']['peak_rss_mib'].get('plan'))
        first = os.path.join(work, f'ab-{args[0].split(":", 1)[0]}-{r}.json')
        if js != first:
            res['report_identical_to_' + args[0].split(':', 1)[0]] = result(js) == result(first)
        print(json.dumps(res), flush=True)
        out.append(res)
