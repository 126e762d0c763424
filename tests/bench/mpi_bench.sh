#!/bin/sh
# mpi_bench.sh PLAIN MPI PYTHON [--quick] - `make bench`'s MPI part (README "On a cluster").
# PLAIN is an MPI-free gradcheck, MPI the make MPI=1 one, PYTHON a python3 with numpy.
#
# 1. Measured, on this machine: a full check of the built-in MLP [128,256,256,10]
#    (batch 32, 101 386 parameters) by PLAIN on 1 and on 2 threads and by
#    mpirun -np 2 MPI (one thread per rank), and mpirun's own start-up (-np 2 on a
#    9-parameter case).  ROUNDS rounds (default 5) run the four side by side, so that
#    each round's ratios see the same load; printed: the median time of each, and the
#    median (min-max) over the rounds of each round's efficiency T(1 thread) / (2 T),
#    and the CPU time of np 2 (user + system of mpirun and both ranks) over the plain
#    run's: the work the MPI run adds, which the load of a shared machine hardly moves.
#    Every np 2 report must equal the plain one byte for byte, or the bench fails.
# 2. Measured, for a 1M-parameter --model check: tests/bench/model_mlp.py 1000 1000 10 32
#    (1 011 010 parameters, numpy on one core), in CPU seconds (user + system: what a
#    dedicated core takes as wall time; the load of a shared machine distorts them less),
#    the median of 3 rounds:
#    - t_eval: one loss evaluation, the program alone answering K requests from a file,
#      minus the same program answering none (its start-up), divided by K;
#    - e: the evaluations gradcheck asks per checked element (counted with tee on a
#      --sample run: the step ladder of README "What gets compared");
#    - the start-up: the program's header (theta and gradient) read by gradcheck: the
#      --sample run's CPU time minus its elements' e t_eval; mpirun's wall time, part 1;
#    - the gather: sizeof(gc_element) bytes per element sent to rank 0.
#    Modelled from these: every element of P = 1 000 000 parameters on N = 1, 8, 64
#    nodes of c = 2 (this machine) and 32 cores, one program copy per core,
#      T(N) = mpirun + start-up + P e t_eval / (N c) + P bytes (N-1)/N / bandwidth,
#    the network at NET_GBPS (default 10) Gbit/s: ideal division of the elements
#    (the cost-balanced share), the copies' start-up in parallel.
# --quick: [64,128,128,10], a [300,300,10] model and 3 rounds (about a minute).
set -eu
plain=$1
mpi=$2
python=$3
quick=${4:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
NET_GBPS=${NET_GBPS:-10}
tmp=$(mktemp -d /tmp/gc_mpi_bench_XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "$quick" = --quick ]; then
	sizes="64, 128, 128, 10"; model="300 300 10 32"; rounds=${ROUNDS:-3}; K=2000; S=5
else
	sizes="128, 256, 256, 10"; model="1000 1000 10 32"; rounds=${ROUNDS:-5}; K=1000; S=10
fi

now() { date +%s.%N; }
# "WALL CPU": seconds of the shell command $1, wall and CPU (user + system of all it
# runs); its standard output in $tmp/out; it must succeed.
run() {
	t0=$(now)
	sh -c "$1"' >"$0/out" 2>"$0/err" || exit 1; times' "$tmp" >"$tmp/times" ||
		{ echo "mpi_bench: '$1' failed:" >&2; cat "$tmp/err" >&2; exit 1; }
	t1=$(now)
	tail -n 1 "$tmp/times" | awk -v t0="$t0" -v t1="$t1" '{ s = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); s += 60 * a[1] + a[2] }
		printf "%.4f %.4f\n", t1 - t0, s }'
}
# Column $1 of $tmp/rounds: "median (min-max)" with format $2, times $3.
column() {
	awk -v c="$1" '{ print $c }' "$tmp/rounds" | sort -g | awk -v f="$2" -v m="${3:-1}" '
		{ v[NR] = $1 * m }
		END { med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf f " (" f "-" f ")", med, v[1], v[NR] }'
}
# Field $2 of the first case of the JSON report $1.
field() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["cases"][0][sys.argv[2]])' "$1" "$2"; }

cat >"$tmp/net.json" <<EOF
{"name": "bench", "layers": [$sizes], "activations": ["tanh", "tanh", "identity"],
 "loss": "mse", "init": {"seed": 1, "distribution": "xavier"}, "data": {"seed": 2, "batch": 32}}
EOF
echo "== MPI: a full check of the MLP [$sizes], batch 32, $rounds rounds side by side"
: >"$tmp/rounds"
r=0
while [ $r -lt "$rounds" ]; do
	r=$((r + 1))
	p1=$(run "'$plain' --jobs 1 --format json '$tmp/net.json'")
	cp "$tmp/out" "$tmp/plain.json"
	p2=$(run "'$plain' --jobs 2 --format json '$tmp/net.json'")
	m2=$(run "mpirun --oversubscribe -np 2 '$mpi' --jobs 1 --format json '$tmp/net.json'")
	cmp -s "$tmp/out" "$tmp/plain.json" || { echo "mpi_bench: the np 2 report differs from the plain one" >&2; exit 1; }
	m0=$(run "mpirun --oversubscribe -np 2 '$mpi' --jobs 1 cases/seed003_sigmoid_2_2_1.json")
	# 1-8: wall and CPU of the four; 9, 10: efficiency of 2 threads, of np 2;
	# 11: np 2 over 2 threads; 12: CPU of np 2 over plain's
	echo "$p1 $p2 $m2 $m0" | awk '{ print $0, $1 / (2 * $3), $1 / (2 * $5), $5 / $3, $6 / $2 }' >>"$tmp/rounds"
done
params=$(field "$tmp/plain.json" params)
echo "  $params parameters; median (min-max) of the rounds:"
echo "  plain, 1 thread            $(column 1 %.2f) s   CPU $(column 2 %.2f) s"
echo "  plain, 2 threads           $(column 3 %.2f) s   efficiency $(column 9 %.0f 100) %"
echo "  mpirun -np 2, 1 thread     $(column 5 %.2f) s   efficiency $(column 10 %.0f 100) %"
echo "                                                CPU $(column 6 %.2f) s = $(column 12 %.2f) x plain's"
echo "  mpirun start-up (np 2)     $(column 7 %.2f) s   CPU $(column 8 %.2f) s"
echo "  np 2 over 2 threads        $(column 11 %.2f); every np 2 report byte-identical to the plain one"
echo "  load average (1, 5, 15 min) $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors: wall times and"
echo "  efficiencies are this machine's share at the time; CPU times hardly depend on it"
mpirun_start=$(awk '{ print $7 }' "$tmp/rounds" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')

cmd="$python tests/bench/model_mlp.py $model"
echo "== MPI: a 1M-parameter --model check, measured on '$cmd'"
printf 'q\n' >"$tmp/req0"
P=$($cmd <"$tmp/req0" | "$python" -c 'import json, sys; print(len(json.loads(sys.stdin.readline())["theta"]))')
awk -v n="$P" -v k="$K" 'BEGIN { for (j = 0; j < k; j++)
	printf "i %d %s6.0554544523933395e-06\n", int(j * (n - 1) / (k - 1)), j % 2 ? "-" : ""; print "q" }' >"$tmp/reqK"
: >"$tmp/rounds"
r=0
while [ $r -lt 3 ]; do
	r=$((r + 1))
	a0=$(run "$cmd <'$tmp/req0'")
	aK=$(run "$cmd <'$tmp/reqK'")
	g=$(run "'$plain' --jobs 1 --sample $S --format json --model \"tee '$tmp/req' | $cmd\"")
	# 1-6: wall and CPU of the three; 7: t_eval from CPU
	echo "$a0 $aK $g" | awk -v k="$K" '{ print $0, ($4 - $2) / k }' >>"$tmp/rounds"
done
checked=$(field "$tmp/out" checked)
evals=$(awk '$1 == "i" && $3 + 0 != 0' "$tmp/req" | wc -l)
printf '#include <stdio.h>\n#include "gradcheck.h"\nint main(void) { printf("%%zu\\n", sizeof(gc_element)); return 0; }\n' >"$tmp/size.c"
cc -std=c11 -Isrc -o "$tmp/size" "$tmp/size.c"
esize=$("$tmp/size")
echo "  $P parameters; CPU seconds (user + system, what a dedicated core takes), 3 rounds, median (min-max):"
echo "  one loss evaluation (t_eval)    $(column 7 %.2f 1000) ms   ($K requests from a file, program alone)"
echo "  program start-up alone          $(column 2 %.2f) s   (its header: theta and gradient)"
echo "  evaluations per element (e)     $evals / $checked = $(awk -v a="$evals" -v b="$checked" 'BEGIN { printf "%.2f", a / b }')   (--sample $S: the step ladder's)"
echo "  gradcheck --jobs 1 --sample $S   $(column 6 %.2f) s   ($checked elements; gradcheck and the program)"
echo "  gather to rank 0                $esize bytes per element (sizeof(gc_element))"
med() { awk -v c="$1" '{ print $c }' "$tmp/rounds" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
awk -v te="$(med 7)" -v tg="$(med 6)" -v n="$checked" -v ev="$evals" -v mp="$mpirun_start" \
    -v esize="$esize" -v gbps="$NET_GBPS" 'BEGIN {
	e = ev / n
	start = tg - n * e * te
	P = 1000000
	printf "  start-up through gradcheck      %.2f s   (the --sample run minus %d x %.2f x t_eval)\n", start, n, e
	printf "== MPI: modelled, every element of 1 000 000 parameters: mpirun %.2f s + start-up %.2f s\n", mp, start
	printf "   + 10^6 x %.2f x %.2f ms / (nodes x cores) + gather of %.0f MB at %g Gbit/s\n", e, 1000 * te, P * esize / 1e6, gbps
	printf "    nodes      2 cores/node          32 cores/node        gather\n"
	split("1 8 64", nodes, " ")
	for (k = 1; k <= 3; k++) {
		N = nodes[k]
		g = P * esize * (N - 1) / N * 8 / (gbps * 1e9)
		ta = mp + start + P * e * te / (N * 2) + g
		tb = mp + start + P * e * te / (N * 32) + g
		printf "    %5d   %9.0f s %6.2f h   %9.0f s %6.2f h   %6.3f s\n", N, ta, ta / 3600, tb, tb / 3600, g
	}
}'
