#pragma once

#include <string>

#include "base/result.h"
#include "config/project.h"

// How sluice reaches a PostgreSQL server, shared by PostgreSQL sources (src/connectors) and the
// PostgreSQL warehouse. libpq stays inside postgres_connection.cpp.
//
// Passwords come only from the environment and never appear in a Status message, a log line or
// a description. ConnectionString() is the one exception by necessity (libpq needs the
// password): its result is a secret to hand to a connection and nothing else.
// libpq's own handle types, declared so callers need not include libpq-fe.h.
struct pg_conn;
struct pg_result;

namespace sluice::warehouse {

// The libpq connection string for `connection`: the literal dsn, the dsn held by the environment
// variable dsn_env, or host/port/dbname/user plus the password read from the environment
// variable password_env. An unset variable is InvalidArgument naming the variable (never a
// value); so is a dsn libpq cannot parse. The result may contain a password: do not print it.
base::Result<std::string> ConnectionString(const config::ConnectionSpec& connection);

// For messages: "host:port/db as user", or "dsn from $PG_DSN (host:port/db as user)". Never
// contains a password, even when the dsn does.
std::string DescribeConnection(const config::ConnectionSpec& connection);

// `message` with every occurrence of the password held by `conninfo` (if any) replaced by "***"
// and trailing newlines and spaces removed. libpq's messages never echo a password as far as we
// know; this makes sure of it.
std::string ScrubPassword(std::string message, const std::string& conninfo);

// Maps a failed libpq command (`result` may be null) to a Status by SQLSTATE class: connection
// trouble and transient server states are retryable; what is wrong with the SQL, the names or
// the values is not. The message (password scrubbed, SQLSTATE appended) is prefixed by
// `prefix`, or by "lost the connection to " + `peer` when the connection is gone.
base::Status PostgresError(const pg_conn* connection, const pg_result* result,
                           const std::string& conninfo, const std::string& prefix,
                           const std::string& peer);

}  // namespace sluice::warehouse
