#!/bin/sh
# Signet's container entrypoint: get the database ready, then become the command.
#
#   1. Wait for PostgreSQL: a real connection with Django's settings, retried
#      for DB_WAIT_TIMEOUT seconds (default 60); DJANGO_WAIT_FOR_DB=0 skips it.
#   2. When DJANGO_MIGRATE_ON_START=1, `migrate --noinput` under a PostgreSQL
#      advisory lock, so replicas starting together migrate exactly once.
#   3. exec "$@": the server, or whatever `docker compose run web ...` asked for.
#
# It exports nothing: `docker compose exec` sessions, which skip this script,
# see the same environment as the server.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

log() {
    printf 'entrypoint: %s\n' "$*" >&2
}

if [ "$#" -eq 0 ]; then
    log "no command given (the image's default is gunicorn)"
    exit 64
fi

case "${DJANGO_WAIT_FOR_DB:-1}" in
    0 | false | no) log "DJANGO_WAIT_FOR_DB=${DJANGO_WAIT_FOR_DB}: not waiting for the database" ;;
    *) python "$here/wait_for_db.py" ;;
esac

case "${DJANGO_MIGRATE_ON_START:-0}" in
    1 | true | yes) python "$here/migrate.py" ;;
    *) ;;
esac

exec "$@"
