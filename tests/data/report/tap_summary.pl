#!/usr/bin/perl
# Reads a TAP file with TAP::Parser and prints a canonical summary that
# tests/test_report.c compares with the expected one:
#   plan 1..N / good_plan 0|1 / passed LIST / failed LIST / directives N /
#   parse_errors N / one "yaml TEST SEVERITY KIND..." line per YAML block.
use strict;
use warnings;
use TAP::Parser;

open(my $fh, '<', $ARGV[0]) or die "$ARGV[0]: $!\n";
my $tap = do { local $/; <$fh> };
close $fh;
# tap => text: given a file name, TAP::Parser would run it as a test script
my $parser = TAP::Parser->new({ tap => $tap });
my ($last, $directives, @yaml) = (0, 0);
while (my $r = $parser->next) {
	if ($r->is_test) {
		$last = $r->number;
		$directives++ if $r->directive;
	} elsif ($r->is_yaml) {
		my $d = $r->data;
		my @kinds = map { $_->{kind} } @{ $d->{data}{diagnoses} || [] };
		my @tensors = map { "$_->{name}:$_->{failed}/$_->{checked}" } @{ $d->{data}{tensors} || [] };
		push @yaml, join(' ', 'yaml', $last, $d->{severity}, @tensors, @kinds,
		                 'notes=' . scalar @{ $d->{data}{notes} || [] }, "msg=$d->{message}");
	}
}
print 'plan ', $parser->plan, "\n";
print 'good_plan ', ($parser->is_good_plan ? 1 : 0), "\n";
print 'passed ', join(',', $parser->passed), "\n";
print 'failed ', join(',', $parser->failed), "\n";
print "directives $directives\n";
print 'parse_errors ', scalar($parser->parse_errors), "\n";
print "$_\n" for @yaml;
