# shellcheck shell=bash
# The SQL that makes a service's database roles (ADR 0004), written once and sourced by both
# places that make them: deploy/local/postgres.sh (make up, the tests) and docker-compose's
# postgres on its first start (deploy/docker/initdb/10-service-roles.sh). deploy/k8s declares
# the same roles to CloudNativePG (database-roles.yaml). Each function prints SQL for psql,
# run as the cluster's superuser; role names are checked, passwords quoted.

# A password as an SQL string literal.
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

valid_role_name() {
  [[ "$1" =~ ^[a-z][a-z0-9_]*$ ]] || { echo "not a valid role name: $1" >&2; return 1; }
}

# A login role with these attributes, made if missing (ALTER ROLE also resets what an older
# script or a hand gave it).
role_sql() { # NAME ATTRIBUTES PASSWORD
  valid_role_name "$1" || return 1
  cat <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
    CREATE ROLE "$1";
  END IF;
END\$\$;
ALTER ROLE "$1" WITH LOGIN $2 PASSWORD $(sql_literal "$3");
SQL
}

# The role a service's processes log in as: it may not get round row-level security, whatever
# its code does. Owns nothing; the migration runner grants it its schema and the schema's
# `_app` and `_worker` roles, which NOINHERIT keeps from applying until it SETs ROLE.
service_login_role_sql() { # NAME PASSWORD
  role_sql "$1" "NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT" "$2"
}

# The role a service's migrations run as where they do not run as the superuser (docker
# compose, like deploy/k8s' <service>_owner): it owns the service's schema and creates the
# schema's `_app` and `_worker` roles (CREATEROLE), but is no superuser and cannot bypass
# row-level security. Never a running service's login.
service_owner_role_sql() { # NAME PASSWORD
  role_sql "$1_owner" "NOSUPERUSER NOBYPASSRLS CREATEROLE NOCREATEDB INHERIT" "$2" || return 1
  echo "CREATE SCHEMA IF NOT EXISTS \"$1\" AUTHORIZATION \"$1_owner\";"
}
