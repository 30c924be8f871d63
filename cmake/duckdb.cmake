# Imports the prebuilt DuckDB C library as DuckDB::duckdb. Only src/warehouse may link it.
find_path(DUCKDB_INCLUDE_DIR duckdb.h PATHS "${DUCKDB_ROOT}/include" NO_DEFAULT_PATH)
find_library(DUCKDB_LIBRARY duckdb PATHS "${DUCKDB_ROOT}/lib" NO_DEFAULT_PATH)
if(NOT DUCKDB_INCLUDE_DIR OR NOT DUCKDB_LIBRARY)
  message(FATAL_ERROR
    "DuckDB not found under DUCKDB_ROOT=${DUCKDB_ROOT}. Run scripts/setup, or pass "
    "-DDUCKDB_ROOT=<dir with include/duckdb.h and lib/libduckdb.so>.")
endif()
add_library(DuckDB::duckdb SHARED IMPORTED GLOBAL)
set_target_properties(DuckDB::duckdb PROPERTIES
  IMPORTED_LOCATION "${DUCKDB_LIBRARY}"
  IMPORTED_NO_SONAME TRUE
  INTERFACE_INCLUDE_DIRECTORIES "${DUCKDB_INCLUDE_DIR}")
message(STATUS "DuckDB: ${DUCKDB_LIBRARY}")
