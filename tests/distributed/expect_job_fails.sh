#!/bin/sh
# expect_job_fails.sh SECONDS COMMAND...: passes when COMMAND ends within
# SECONDS with a non-zero exit (a failure that ends the job), fails when
# it succeeds or had to be killed at the deadline (a hang).
limit=$1
shift
timeout "$limit" "$@"
rc=$?
echo "expect_job_fails: exit $rc"
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
