# make fresh-check   the README's two commands on a fresh Debian 12 (tests/fresh_check.sh):
#                    debootstrap a minbase bookworm root into build/fresh, add git,
#                    ca-certificates and make, clone this repository's committed HEAD into
#                    it, run make demo and make check there.  Needs root and the network;
#                    takes minutes; not part of make check or .ci/run.
.PHONY: fresh-check
fresh-check:
	sh tests/fresh_check.sh
