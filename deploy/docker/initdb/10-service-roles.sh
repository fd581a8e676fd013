#!/usr/bin/env bash
# docker-compose's postgres runs this once, on its first start (an empty data volume), as the
# image's superuser: for each service its owner role (migrations) and its login role (the
# service), with the passwords from .env. The SQL is deploy/postgres/service-roles.sh, the
# same deploy/local/postgres.sh runs.
set -euo pipefail
# shellcheck source=../../postgres/service-roles.sh
source /aligned/service-roles.sh

for name in ${ALIGNED_DB_SERVICES:?the services that get database roles}; do
  upper="${name^^}"
  login_password="${upper}_DB_PASSWORD"
  owner_password="${upper}_OWNER_DB_PASSWORD"
  {
    service_owner_role_sql "$name" "${!owner_password:?set $owner_password in .env}"
    service_login_role_sql "$name" "${!login_password:?set $login_password in .env}"
  } | psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB"
  echo "aligned: roles ${name}_owner and $name ready"
done
