#include "orchestrate/airflow_export.h"

#include <gtest/gtest.h>

#include "config/project_loader.h"
#include "orchestrate/dagster_export.h"

namespace sluice::orchestrate {
namespace {

TEST(AirflowExportTest, TasksDependenciesRetriesAndSchedule) {
  auto spec = config::LoadProjectFromString(
      "name: shop\n"
      "pipelines:\n  - name: p\n    schedule: '30 2 * * *'\n    timezone: Europe/Berlin\n"
      "    retries: 2\n    retry_backoff: 1m\n    timeout: 1h\n    partition: day\n"
      "    steps:\n"
      "      - {name: a, run: command, command: 'true'}\n"
      "      - {name: b, run: command, depends_on: [a], command: 'true', retries: 0}\n"
      "      - {name: c, run: command, depends_on: [a, b], command: 'true', timeout: 5m}\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const std::string dag = AirflowDag(spec->pipelines[0], "/srv/shop", "/usr/bin/sluice");
  for (const char* want :
       {"SLUICE = \"/usr/bin/sluice\"", "PROJECT = \"/srv/shop\"", "dag_id=\"sluice_p\"",
        "schedule=\"30 2 * * *\"", "tz=\"Europe/Berlin\"", "catchup=False", "max_active_runs=1",
        "t_a = BashOperator(", "task_id=\"b\"", "        retries=0,", "        retries=2,",
        "retry_delay=datetime.timedelta(seconds=60)",
        "execution_timeout=datetime.timedelta(seconds=300)", "t_a >> t_b\n", "t_a >> t_c\n",
        "t_b >> t_c\n", "--scheduled-at '{{ data_interval_end | ts }}'", "\"--no-retry\""}) {
    EXPECT_NE(dag.find(want), std::string::npos) << want << "\n" << dag;
  }
}

TEST(AirflowExportTest, IntervalsBecomeTimedeltas) {
  auto spec = config::LoadProjectFromString(
      "name: shop\npipelines:\n  - name: p\n    schedule: '@every 15m'\n"
      "    steps: [{name: a, run: command, command: 'true'}]\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok());
  const std::string dag = AirflowDag(spec->pipelines[0], "/srv/shop", "sluice");
  EXPECT_NE(dag.find("schedule=datetime.timedelta(seconds=900)"), std::string::npos) << dag;
  EXPECT_EQ(dag.find(">>"), std::string::npos);
  EXPECT_EQ(dag.find("--scheduled-at"), std::string::npos);
}

TEST(DagsterExportTest, OpsInDependencyOrderWithRetriesAndSchedule) {
  auto spec = config::LoadProjectFromString(
      "name: shop\n"
      "pipelines:\n  - name: p\n    schedule: '@daily'\n    timezone: Europe/Berlin\n"
      "    retries: 2\n    retry_backoff: 1m\n"
      "    steps:\n"
      "      - {name: b, run: command, depends_on: [a], command: 'true'}\n"
      "      - {name: a, run: command, command: 'true'}\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const std::string py = DagsterJob(spec->pipelines[0], "/srv/shop", "sluice");
  for (const char* want : {"ins={\"after_a\": In(Nothing)}",
                           "RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL)",
                           "    r_a = op_a()\n    r_b = op_b(after_a=r_a)\n",
                           "cron_schedule=\"@daily\", execution_timezone=\"Europe/Berlin\"",
                           "defs = Definitions(jobs=[sluice_p], schedules=[schedule])"}) {
    EXPECT_NE(py.find(want), std::string::npos) << want << "\n" << py;
  }
}

}  // namespace
}  // namespace sluice::orchestrate
