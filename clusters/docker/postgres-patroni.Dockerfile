# gameday/postgres-patroni:dev: one node of the rag stack's store on kind: PostgreSQL 16 with
# pgvector, run by Patroni with its etcd3 DCS (clusters/manifests/rag/base/db.yaml).
# Build context: the repository root.
#
# pgvector's own image is the official postgres:16 (Debian bookworm) image with pgvector built
# in at a pinned release; installing postgresql-16-pgvector from apt.postgresql.org instead
# needs an apt pin that breaks as soon as that repository moves on (it keeps only its newest
# build of each package).
FROM pgvector/pgvector:0.8.0-pg16

# Patroni from a venv of Debian's own Python: the postgres user must be able to read and
# re-execute it (FACTS.md: a Python it cannot read hangs Patroni at "bootstrap in progress")
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3=3.11.2-1+b1 python3-venv=3.11.2-1+b1 \
 && rm -rf /var/lib/apt/lists/*

# the local platform's Patroni (patroni[etcd3]==4.1.5), psycopg pinned to what the harness runs
COPY targets/rag/patroni-requirements.txt /tmp/patroni-requirements.txt
RUN python3 -m venv /opt/patroni \
 && /opt/patroni/bin/pip install --no-cache-dir --disable-pip-version-check \
      -r /tmp/patroni-requirements.txt "psycopg[binary]==3.3.9" \
 && rm /tmp/patroni-requirements.txt

# patronictl for the wait-for-leader init container; python3 = the venv's
ENV PATH=/opt/patroni/bin:$PATH
# the image's postgres user (uid 999): PostgreSQL refuses to run as root
USER 999:999
EXPOSE 5432 8008
# not the image's docker-entrypoint.sh: Patroni runs initdb, base backups and the postmaster
ENTRYPOINT ["/opt/patroni/bin/patroni"]
CMD ["/etc/patroni/patroni.yml"]
