// Tests of the Filter builders (normalization, equality, printing), type checking
// (db::CheckFilterTypes) and the reference evaluation (db::Matches).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "db/filter_eval.h"
#include "db/filter_types.h"
#include "ember/filter.h"
#include "status_matchers.h"

namespace ember {

// Shared by the filter test files of this binary (hence inline): failures show filters as text.
inline void PrintTo(const Filter& filter, std::ostream* os) { *os << filter.ToString(); }

namespace {

using ::ember::db::AttributeTypeLookup;
using ::ember::db::CheckFilterTypes;
using ::ember::db::Matches;
using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::HasSubstr;
using Op = Filter::Op;

TEST(FilterBuilderTest, DefaultIsAll) {
  const Filter filter;
  EXPECT_EQ(filter.op(), Op::kAll);
  EXPECT_EQ(filter, Filter::All());
  EXPECT_NE(filter, Filter::None());
  EXPECT_TRUE(filter.attribute().empty());
  EXPECT_TRUE(filter.literals().empty());
  EXPECT_TRUE(filter.operands().empty());
  // A moved-from filter stays usable: it is All().
  Filter moved = Filter::Eq("x", 1);
  const Filter target = std::move(moved);
  EXPECT_EQ(target, Filter::Eq("x", 1));
  EXPECT_EQ(moved, Filter::All());  // NOLINT(bugprone-use-after-move): the point of the test
}

TEST(FilterBuilderTest, ConditionsExposeTheirParts) {
  const Filter between = Filter::Between("year", 2000, 2010.5);
  EXPECT_EQ(between.op(), Op::kBetween);
  EXPECT_EQ(between.attribute(), "year");
  EXPECT_EQ(between.literals(), (std::vector<Literal>{int64_t{2000}, 2010.5}));
  EXPECT_TRUE(between.operands().empty());

  const Filter any = Filter::ContainsAny("tags", {"a", "b"});
  EXPECT_EQ(any.op(), Op::kContainsAny);
  EXPECT_EQ(any.literals(), (std::vector<Literal>{std::string("a"), std::string("b")}));
  EXPECT_EQ(Filter::IsNull("x").op(), Op::kIsNull);
  EXPECT_EQ(Filter::IsNotNull("x").op(), Op::kIsNotNull);
  // String literals from C strings are strings, not booleans.
  EXPECT_EQ(Filter::Eq("x", "abc").literals()[0], Literal(std::string("abc")));
}

TEST(FilterBuilderTest, JunctionsFlattenAndSimplify) {
  const Filter a = Filter::Eq("a", 1), b = Filter::Eq("b", 2), c = Filter::Eq("c", 3);
  const Filter abc = Filter::And({a, b, c});
  EXPECT_EQ(abc.op(), Op::kAnd);
  EXPECT_EQ(abc.operands().size(), 3u);
  EXPECT_EQ(Filter::And(a, Filter::And(b, c)), abc);
  EXPECT_EQ(Filter::And(Filter::And(a, b), c), abc);
  EXPECT_EQ(Filter::Or(a, Filter::Or(b, c)), Filter::Or({a, b, c}));
  // Or inside And (and the reverse) is structure, not flattened.
  EXPECT_EQ(Filter::And(a, Filter::Or(b, c)).operands().size(), 2u);

  EXPECT_EQ(Filter::And({}), Filter::All());
  EXPECT_EQ(Filter::Or({}), Filter::None());
  EXPECT_EQ(Filter::And({a}), a);
  EXPECT_EQ(Filter::Or({a}), a);
  EXPECT_EQ(Filter::And(a, Filter::All()), a);
  EXPECT_EQ(Filter::And(a, Filter::None()), Filter::None());
  EXPECT_EQ(Filter::Or(a, Filter::None()), a);
  EXPECT_EQ(Filter::Or(a, Filter::All()), Filter::All());
  EXPECT_EQ(Filter::Not(Filter::All()), Filter::None());
  EXPECT_EQ(Filter::Not(Filter::None()), Filter::All());
  // Not is kept as written: two-valued logic makes NOT (a = 1) differ from a != 1.
  EXPECT_EQ(Filter::Not(Filter::Not(a)).op(), Op::kNot);
  EXPECT_NE(Filter::Not(a), Filter::Ne("a", 1));
}

TEST(FilterBuilderTest, EqualityIsStructural) {
  EXPECT_EQ(Filter::Eq("x", 1), Filter::Eq("x", 1));
  EXPECT_NE(Filter::Eq("x", 1), Filter::Eq("x", 1.0));
  EXPECT_NE(Filter::Eq("x", 1), Filter::Eq("y", 1));
  EXPECT_NE(Filter::Eq("x", 1), Filter::Ne("x", 1));
  EXPECT_NE(Filter::In("x", {1, 2}), Filter::In("x", {2, 1}));
  EXPECT_NE(Filter::And(Filter::Eq("a", 1), Filter::Eq("b", 1)),
            Filter::Or(Filter::Eq("a", 1), Filter::Eq("b", 1)));
}

TEST(FilterBuilderTest, CopiesShareNodes) {
  const Filter original = Filter::In("x", std::vector<Literal>(1000, int64_t{7}));
  const Filter copy = original;
  EXPECT_EQ(&copy.literals(), &original.literals());
}

TEST(FilterBuilderTest, ToStringIsCanonicalText) {
  EXPECT_EQ(Filter::All().ToString(), "TRUE");
  EXPECT_EQ(Filter::None().ToString(), "FALSE");
  EXPECT_EQ(Filter::And(Filter::Ge("release_year", 2015), Filter::Contains("country", "India"))
                .ToString(),
            "release_year >= 2015 AND country CONTAINS 'India'");
  EXPECT_EQ(Filter::Or(Filter::And(Filter::Eq("a", 1.0), Filter::Lt("b", -2)),
                       Filter::Not(Filter::Or(Filter::IsNull("c"), Filter::Eq("d", true))))
                .ToString(),
            "a = 1.0 AND b < -2 OR NOT (c IS NULL OR d = TRUE)");
  EXPECT_EQ(Filter::And(Filter::Or(Filter::Eq("a", 1), Filter::Eq("b", 2)), Filter::Eq("c", 3))
                .ToString(),
            "(a = 1 OR b = 2) AND c = 3");
  EXPECT_EQ(Filter::NotIn("the name", {"x'y", "z"}).ToString(), "`the name` NOT IN ('x\\'y', 'z')");
  EXPECT_EQ(Filter::ContainsAll("or", {"a"}).ToString(), "`or` CONTAINS ALL ('a')");
  EXPECT_EQ(Filter::Between("x", 0.5, 1e100).ToString(), "x BETWEEN 0.5 AND 1e+100");
  // Not parseable, and rejected by CheckFilterTypes: the syntax has no empty list.
  EXPECT_EQ(Filter::In("x", {}).ToString(), "x IN ()");
}

// -------------------------------------------------------------------------------------------------
// Type checking

std::optional<AttributeType> ExampleTypes(std::string_view attribute) {
  if (attribute == "flag") return AttributeType::kBool;
  if (attribute == "year") return AttributeType::kInt;
  if (attribute == "score") return AttributeType::kDouble;
  if (attribute == "country") return AttributeType::kString;
  if (attribute == "tags") return AttributeType::kStringList;
  return std::nullopt;
}

absl::Status Check(const Filter& filter) { return CheckFilterTypes(filter, ExampleTypes); }

absl::Status Check(std::string_view text) {
  absl::StatusOr<Filter> filter = ParseFilter(text);
  EXPECT_THAT(filter, IsOk()) << text;
  return filter.ok() ? Check(*filter) : filter.status();
}

TEST(FilterTypesTest, AcceptsWellTypedFilters) {
  for (const char* text : {
           "flag = TRUE",
           "flag != FALSE",
           "flag IN (TRUE)",
           "flag NOT IN (FALSE, TRUE)",
           "year = 2000",
           "year = 2000.5",
           "year < 1e3",
           "year BETWEEN 1 AND 2.5",
           "year IN (1, 2.0)",
           "score >= 1",
           "score NOT IN (1, 2)",
           "country = 'India'",
           "country < 'B'",
           "country BETWEEN 'A' AND 'C'",
           "country IN ('a', 'b')",
           "tags CONTAINS 'x'",
           "tags CONTAINS ANY ('x', 'y')",
           "tags CONTAINS ALL ('x')",
           "flag IS NULL AND year IS NOT NULL AND tags IS NULL",
           // Unknown attributes may be compared with anything.
           "unknown = 1 AND unknown2 CONTAINS 'x' AND unknown3 < 'a'",
           "NOT (year = 1 OR country = 'x') AND TRUE",
       }) {
    EXPECT_OK(Check(text)) << text;
  }
  EXPECT_OK(Check(Filter::All()));
  EXPECT_OK(Check(Filter::None()));
}

TEST(FilterTypesTest, RejectsLiteralsOfTheWrongType) {
  EXPECT_THAT(Check("year = 'x'"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: year = 'x': attribute year is int and cannot be compared with "
                       "string 'x'"));
  EXPECT_THAT(Check(Filter::Or(Filter::Gt("score", true), Filter::Eq("x", 1))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("booleans have no order")));
  EXPECT_THAT(Check("country IN ('a', 'b') AND NOT country != 5"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: country != 5: attribute country is string and cannot be compared "
                       "with int 5"));
  EXPECT_THAT(
      Check("flag = 1"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "filter: flag = 1: attribute flag is bool and cannot be compared with int 1"));
  EXPECT_THAT(Check("score IN (1, 2.5) OR score BETWEEN 'a' AND 'b'"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: score BETWEEN 'a' AND 'b': attribute score is double and cannot be "
                       "compared with string 'a'"));
}

TEST(FilterTypesTest, RejectsOrderingOnBooleans) {
  EXPECT_THAT(Check("flag < 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: flag < 1: attribute flag is bool; booleans take only =, !=, IN and "
                       "NOT IN"));
  EXPECT_THAT(Check(Filter::Between("flag", false, true)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: flag BETWEEN FALSE AND TRUE: booleans have no order; compare them "
                       "with = or !="));
}

TEST(FilterTypesTest, ContainsIsForListsOnly) {
  EXPECT_THAT(Check("country CONTAINS 'India'"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: country CONTAINS 'India': attribute country is string; CONTAINS "
                       "applies only to list attributes"));
  EXPECT_THAT(Check("tags = 'x'"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: tags = 'x': attribute tags is list; use CONTAINS, CONTAINS ANY or "
                       "CONTAINS ALL"));
  EXPECT_THAT(Check("tags IN ('x')"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use CONTAINS")));
}

TEST(FilterTypesTest, RejectsBuiltFiltersThatCannotBeWritten) {
  EXPECT_THAT(Check(Filter::Eq("", 1)), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 "filter: `` = 1: the attribute name is empty"));
  EXPECT_THAT(Check(Filter::In("year", {})), StatusIs(absl::StatusCode::kInvalidArgument,
                                                      "filter: year IN (): the list is empty"));
  EXPECT_THAT(Check(Filter::ContainsAll("tags", {})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the list is empty")));
  EXPECT_THAT(Check(Filter::Gt("score", std::numeric_limits<double>::infinity())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: score > inf: inf is not a finite number"));
  EXPECT_THAT(Check(Filter::Eq("other", std::nan(""))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a finite number")));
  EXPECT_THAT(Check(Filter::In("other", {1, "a"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: other IN (1, 'a'): cannot compare with both int 1 and string 'a'"));
}

TEST(FilterTypesTest, LongConditionsAreCutShortInMessages) {
  std::vector<Literal> many(1000, std::string("abc"));
  many.back() = int64_t{1};
  const absl::Status status = Check(Filter::In("other", many));
  ASSERT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_LT(status.message().size(), 300u);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("...: cannot compare with both string 'abc' and int 1"));
}

Filter NestedNots(int levels) {
  Filter filter = Filter::Eq("x", 1);
  for (int i = 0; i < levels; ++i) filter = Filter::Not(filter);
  return filter;
}

TEST(FilterTypesTest, NestingIsLimitedAsInText) {
  EXPECT_OK(Check(NestedNots(kMaxFilterDepth)));
  EXPECT_THAT(Check(NestedNots(kMaxFilterDepth + 1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "filter: nesting deeper than 256 levels of parentheses and NOT"));
  // NOT over AND prints as NOT (...): two levels each.
  Filter junctions = Filter::Eq("x", 1);
  for (int i = 0; i < kMaxFilterDepth / 2; ++i) {
    junctions = Filter::Not(Filter::And(junctions, Filter::Eq("y", i)));
  }
  EXPECT_OK(Check(junctions));
  ASSERT_OK_AND_ASSIGN(Filter parsed, ParseFilter(junctions.ToString()));
  EXPECT_EQ(parsed, junctions);
  EXPECT_THAT(Check(Filter::Not(Filter::And(junctions, Filter::Eq("y", 0)))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nesting deeper")));
  // The check stops descending once past the limit.
  EXPECT_THAT(Check(NestedNots(5000)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nesting deeper")));
}

// -------------------------------------------------------------------------------------------------
// Evaluation

bool MatchesText(std::string_view text, const Attributes& attributes) {
  absl::StatusOr<Filter> filter = ParseFilter(text);
  EXPECT_THAT(filter, IsOk()) << text;
  return filter.ok() && Matches(*filter, attributes);
}

const Attributes kMovie = {
    {"year", int64_t{2015}},
    {"score", 7.5},
    {"country", std::string("India")},
    {"tags", std::vector<std::string>{"drama", "family"}},
    {"flag", true},
    {"nothing", std::monostate()},
    {"empty", std::vector<std::string>{}},
};

TEST(FilterEvalTest, ConstantsAndJunctions) {
  EXPECT_TRUE(Matches(Filter::All(), {}));
  EXPECT_FALSE(Matches(Filter::None(), {}));
  EXPECT_TRUE(MatchesText("year = 2015 AND country = 'India'", kMovie));
  EXPECT_FALSE(MatchesText("year = 2015 AND country = 'France'", kMovie));
  EXPECT_TRUE(MatchesText("year = 2016 OR country = 'India'", kMovie));
  EXPECT_FALSE(MatchesText("year = 2016 OR country = 'France'", kMovie));
  EXPECT_TRUE(MatchesText("NOT year = 2016", kMovie));
  EXPECT_FALSE(MatchesText("NOT NOT year = 2016", kMovie));
}

TEST(FilterEvalTest, Comparisons) {
  for (const char* text :
       {"year = 2015", "year != 2014", "year < 2016", "year <= 2015", "year > 2014", "year >= 2015",
        "score = 7.5", "score > 7", "score < 8", "country = 'India'", "country != 'india'",
        "country > 'IN'", "country < 'Indiana'", "country <= 'India'", "flag = TRUE",
        "flag != FALSE"}) {
    EXPECT_TRUE(MatchesText(text, kMovie)) << text;
  }
  for (const char* text :
       {"year = 2014", "year != 2015", "year < 2015", "year <= 2014", "year > 2015", "year >= 2016",
        "score = 7", "country = 'india'", "country > 'J'", "flag = FALSE", "flag != TRUE"}) {
    EXPECT_FALSE(MatchesText(text, kMovie)) << text;
  }
}

TEST(FilterEvalTest, NumbersCompareExactlyAcrossIntAndDouble) {
  EXPECT_TRUE(MatchesText("year = 2015.0", kMovie));
  EXPECT_TRUE(MatchesText("year < 2015.5 AND year > 2014.5", kMovie));
  EXPECT_TRUE(MatchesText("score > 7 AND score < 8 AND score != 7", kMovie));
  EXPECT_TRUE(MatchesText("year IN (1.5, 2015.0)", kMovie));
  // 2^53 + 1 is not a double: converting it to one would make it equal 2^53.
  const Attributes big = {{"n", int64_t{9007199254740993}}};
  EXPECT_FALSE(MatchesText("n = 9007199254740992.0", big));
  EXPECT_TRUE(MatchesText("n > 9007199254740992.0", big));
  EXPECT_TRUE(MatchesText("n < 9007199254740994.0", big));
  const Attributes max = {{"n", std::numeric_limits<int64_t>::max()}};
  EXPECT_TRUE(MatchesText("n < 9223372036854775808.0", max));
  EXPECT_FALSE(MatchesText("n = 9223372036854775808.0", max));
  const Attributes min = {{"n", std::numeric_limits<int64_t>::min()}};
  EXPECT_TRUE(MatchesText("n = -9223372036854775808.0", min));
  EXPECT_TRUE(MatchesText("n > -1e300 AND n < -9.2e18", min));
  const Attributes negative = {{"n", int64_t{-3}}, {"d", -2.5}};
  EXPECT_TRUE(MatchesText("n < -2.5 AND n > -3.5 AND d > -3 AND d < -2", negative));
  const Attributes zero = {{"d", -0.0}};
  EXPECT_TRUE(MatchesText("d = 0 AND d = 0.0 AND d >= 0", zero));
}

TEST(FilterEvalTest, StringsCompareByteWise) {
  const Attributes accented = {{"s", std::string("\xc3\xa9")}};  // é, above every ASCII byte
  EXPECT_TRUE(MatchesText("s > 'z'", accented));
  EXPECT_TRUE(MatchesText("s BETWEEN 'a' AND '\\u00e9'", accented));
  EXPECT_TRUE(MatchesText("s < '\\u00ea'", accented));
}

TEST(FilterEvalTest, ListsRangesAndContains) {
  EXPECT_TRUE(MatchesText("year IN (2014, 2015)", kMovie));
  EXPECT_FALSE(MatchesText("year IN (2014, 2016)", kMovie));
  EXPECT_TRUE(MatchesText("year NOT IN (2014, 2016)", kMovie));
  EXPECT_FALSE(MatchesText("year NOT IN (2014, 2015)", kMovie));
  EXPECT_TRUE(MatchesText("year BETWEEN 2015 AND 2015", kMovie));
  EXPECT_TRUE(MatchesText("year BETWEEN 2000 AND 2020.5", kMovie));
  EXPECT_FALSE(MatchesText("year BETWEEN 2016 AND 2000", kMovie));
  EXPECT_TRUE(MatchesText("country BETWEEN 'A' AND 'J'", kMovie));
  EXPECT_TRUE(MatchesText("tags CONTAINS 'drama'", kMovie));
  EXPECT_FALSE(MatchesText("tags CONTAINS 'Drama'", kMovie));
  EXPECT_TRUE(MatchesText("tags CONTAINS ANY ('comedy', 'family')", kMovie));
  EXPECT_FALSE(MatchesText("tags CONTAINS ANY ('comedy', 'horror')", kMovie));
  EXPECT_TRUE(MatchesText("tags CONTAINS ALL ('family', 'drama')", kMovie));
  EXPECT_FALSE(MatchesText("tags CONTAINS ALL ('family', 'comedy')", kMovie));
  EXPECT_FALSE(MatchesText("empty CONTAINS ANY ('a')", kMovie));
  EXPECT_TRUE(MatchesText("empty IS NOT NULL", kMovie));
}

TEST(FilterEvalTest, MissingAndNullAttributesMatchOnlyIsNull) {
  for (const char* attribute : {"missing", "nothing"}) {
    const std::string a(attribute);
    EXPECT_TRUE(MatchesText(a + " IS NULL", kMovie)) << a;
    EXPECT_FALSE(MatchesText(a + " IS NOT NULL", kMovie)) << a;
    for (const std::string& condition :
         {a + " = 1", a + " != 1", a + " < 1", a + " >= 1", a + " IN (1)", a + " NOT IN (1)",
          a + " BETWEEN 1 AND 2", a + " CONTAINS 'x'", a + " CONTAINS ANY ('x')",
          a + " CONTAINS ALL ('x')", a + " = 'x'", a + " != FALSE"}) {
      EXPECT_FALSE(MatchesText(condition, kMovie)) << condition;
      // Two-valued logic: the NOT of a failed condition matches.
      EXPECT_TRUE(MatchesText("NOT " + condition, kMovie)) << condition;
    }
  }
  EXPECT_FALSE(MatchesText("year IS NULL", kMovie));
  EXPECT_TRUE(MatchesText("year IS NOT NULL", kMovie));
}

TEST(FilterEvalTest, IncomparableValuesFailEveryComparison) {
  // What CheckFilterTypes rejects when types are known still has a meaning when they are not.
  for (const char* text :
       {"year = '2015'", "year != '2015'", "year NOT IN ('a')", "country = 1", "country != 1",
        "country > 1", "flag = 1", "flag != 1", "year = TRUE", "tags = 'drama'", "tags != 'drama'",
        "tags IN ('drama')", "tags NOT IN ('x')", "country CONTAINS 'India'",
        "year CONTAINS ANY ('2015')"}) {
    ASSERT_OK_AND_ASSIGN(Filter filter, ParseFilter(text));
    EXPECT_FALSE(Matches(filter, kMovie)) << text;
    EXPECT_TRUE(Matches(Filter::Not(filter), kMovie)) << text;
  }
  // Orderings with booleans do not parse; built, they match nothing.
  EXPECT_FALSE(Matches(Filter::Lt("flag", true), kMovie));
  EXPECT_FALSE(Matches(Filter::Ge("flag", false), kMovie));
  EXPECT_FALSE(Matches(Filter::Between("flag", false, true), kMovie));
  const Attributes not_a_number = {{"d", std::nan("")}};
  for (const Filter& filter : {Filter::Eq("d", 1.0), Filter::Ne("d", 1.0), Filter::Lt("d", 1),
                               Filter::Gt("d", 1), Filter::NotIn("d", {1})}) {
    EXPECT_FALSE(Matches(filter, not_a_number)) << filter.ToString();
  }
}

}  // namespace
}  // namespace ember
