#include <gtest/gtest.h>

#include "pgcopy/copy_sql.h"
#include "pgcopy/options.h"

namespace tether::pgcopy {
namespace {

using Action = ParsedArgs::Action;

TEST(ParseArgs, GoFlagForms) {
  auto p = parse_args({"-table", "t1", "--workers=4", "-truncate", "--verbose=false", "--limit", "0x10",
                       "-reporting-period", "1m30s", "-split", "\\t"});
  ASSERT_EQ(p.action, Action::kRun) << p.error;
  EXPECT_EQ(p.options.table, "t1");
  EXPECT_EQ(p.options.workers, 4);
  EXPECT_TRUE(p.options.truncate);
  EXPECT_FALSE(p.options.verbose);
  EXPECT_EQ(p.options.limit, 16);
  EXPECT_EQ(p.options.reporting_period, std::chrono::seconds(90));
  EXPECT_EQ(p.options.split, "\\t");
  EXPECT_EQ(p.options.copy_options, "CSV") << "defaults stay";
}

TEST(ParseArgs, ErrorsInGoWording) {
  EXPECT_EQ(parse_args({"-nope"}).error, "flag provided but not defined: -nope");
  EXPECT_EQ(parse_args({"--workers"}).error, "flag needs an argument: -workers");
  EXPECT_EQ(parse_args({"--workers", "x"}).error, "invalid value \"x\" for flag -workers: parse error");
  EXPECT_EQ(parse_args({"-truncate=maybe"}).error, "invalid boolean value \"maybe\" for -truncate: parse error");
  EXPECT_EQ(parse_args({"---x"}).error, "bad flag syntax: ---x");
  EXPECT_EQ(parse_args({"-h"}).action, Action::kHelp);
  EXPECT_EQ(parse_args({"--help"}).action, Action::kHelp);
}

TEST(ParseArgs, LeftoverArgumentsAreErrors) {
  auto p = parse_args({"--table", "t", "stray", "--workers", "2"});
  EXPECT_EQ(p.action, Action::kUsageError);
  EXPECT_NE(p.error.find("unexpected argument \"stray\""), std::string::npos);
  EXPECT_EQ(parse_args({"--", "x"}).action, Action::kUsageError);
}

// The seed workflow passes `--connection $CONNECTION` unquoted; the shell splits it.
TEST(ParseArgs, UnquotedConninfoIsGluedBack) {
  auto p = parse_args({"--db-name", "metrics", "--table", "clicks_x", "--connection", "host=db", "user=u",
                       "sslmode=require", "password=p", "port=5433", "--reporting-period", "2s", "--columns",
                       "campaign_id,num_clicks,start_time,end_time", "--copy-options", "CSV NULL ''", "--workers", "4",
                       "--file", "/tmp/csv_no_head.csv"});
  ASSERT_EQ(p.action, Action::kRun) << p.error;
  EXPECT_EQ(p.options.connection, "host=db user=u sslmode=require password=p port=5433");
  EXPECT_EQ(p.options.db_name, "metrics");
  EXPECT_EQ(p.options.workers, 4);
  EXPECT_EQ(p.options.file, "/tmp/csv_no_head.csv");
  EXPECT_EQ(p.options.copy_options, "CSV NULL ''");
  // Only after --connection, and only libpq keywords.
  EXPECT_EQ(parse_args({"--table", "t", "user=u"}).action, Action::kUsageError);
  EXPECT_EQ(parse_args({"--connection", "host=h", "colour=blue"}).action, Action::kUsageError);
  EXPECT_EQ(parse_args({"--connection", "postgres://h/db", "user=u"}).action, Action::kUsageError);
}

TEST(GoDuration, ParseAndFormat) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(*parse_go_duration("2s"), std::chrono::seconds(2));
  EXPECT_EQ(*parse_go_duration("1.5h"), std::chrono::minutes(90));
  EXPECT_EQ(*parse_go_duration("300ms"), std::chrono::milliseconds(300));
  EXPECT_EQ(*parse_go_duration("0"), nanoseconds(0));
  EXPECT_FALSE(parse_go_duration("2").ok());
  EXPECT_FALSE(parse_go_duration("s").ok());
  EXPECT_FALSE(parse_go_duration("2x").ok());
  EXPECT_EQ(format_go_duration(nanoseconds(3412345678)), "3.412345678s");
  EXPECT_EQ(format_go_duration(std::chrono::seconds(62)), "1m2s");
  EXPECT_EQ(format_go_duration(std::chrono::hours(1)), "1h0m0s");
  EXPECT_EQ(format_go_duration(std::chrono::microseconds(1500)), "1.5ms");
  EXPECT_EQ(format_go_duration(nanoseconds(0)), "0s");
}

TEST(CopySql, StatementLikeTspc) {
  Options o;
  o.table = "clicks";
  o.columns = "a,b";
  o.copy_options = "CSV NULL ''";
  EXPECT_EQ(copy_statement(o), "COPY \"public\".\"clicks\"(a,b) FROM STDIN WITH DELIMITER ',' CSV NULL ''");
  o.split = "\\t";
  o.quote = "'";
  EXPECT_EQ(copy_statement(o),
            "COPY \"public\".\"clicks\"(a,b) FROM STDIN WITH DELIMITER E'\\t' QUOTE '''' CSV NULL ''");
}

TEST(CopySql, SettingsFromOptions) {
  Options o;
  o.copy_options = "csv quote as '|' escape '\\'";
  auto s = copy_settings(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->format, CopyFormat::kCsv);
  EXPECT_EQ(s->quote, '|');
  EXPECT_EQ(s->escape, '\\');
  o.copy_options = "NULL 'CSV'";
  EXPECT_EQ(copy_settings(o)->format, CopyFormat::kText) << "a string literal is not the CSV keyword";
  o.copy_options = "CSV HEADER";
  EXPECT_FALSE(copy_settings(o).ok());
  o.copy_options = "CSV";
  o.quote = "ab";
  EXPECT_FALSE(copy_settings(o).ok());
}

}  // namespace
}  // namespace tether::pgcopy
