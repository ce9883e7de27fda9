#!/usr/bin/env bash
# usage: scripts_eval.sh MODEL_DIR
M=$1; E=../shared/data/eval
./target/release/cdspred eval --model $M --truth $E/cdiphtheriae.tsv.gz --reads $E/cdiphtheriae.fasta.gz --truth $E/kutzneria.tsv.gz --reads $E/kutzneria.fasta.gz --truth $E/mhyorhinis.tsv.gz --reads $E/mhyorhinis.fasta.gz
./target/release/cdspred eval --model $M --seed-csv ../shared/data/seed/test_subset.csv.gz --table 11
./target/release/cdspred eval --model $M --seed-csv ../shared/data/seed/tt4.csv.gz --table 4
