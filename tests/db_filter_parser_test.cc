// Tests of ParseFilter and Filter::ToString: the grammar, precedence, literals, names, every error
// message the parser promises, the nesting and length limits, and round trips through the printer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "ember/filter.h"
#include "status_matchers.h"

namespace ember {

// Shared by the filter test files of this binary (hence inline): failures show filters as text.
inline void PrintTo(const Filter& filter, std::ostream* os) { *os << filter.ToString(); }

namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::Eq;

Filter MustParse(std::string_view text) {
  absl::StatusOr<Filter> filter = ParseFilter(text);
  EXPECT_THAT(filter, IsOk()) << text;
  return filter.ok() ? *filter : Filter::None();
}

// The parse error message for `text`, or "OK".
std::string ParseError(std::string_view text) {
  absl::StatusOr<Filter> filter = ParseFilter(text);
  if (filter.ok()) return "OK";
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument) << filter.status();
  return std::string(filter.status().message());
}

TEST(FilterParserTest, EmptyTextMatchesEverything) {
  EXPECT_EQ(MustParse(""), Filter::All());
  EXPECT_EQ(MustParse(" \t\n "), Filter::All());
  EXPECT_EQ(MustParse("TRUE"), Filter::All());
  EXPECT_EQ(MustParse("false"), Filter::None());
  EXPECT_EQ(MustParse("NOT TRUE"), Filter::None());
}

TEST(FilterParserTest, Comparisons) {
  EXPECT_EQ(MustParse("x = 1"), Filter::Eq("x", 1));
  EXPECT_EQ(MustParse("x != 1"), Filter::Ne("x", 1));
  EXPECT_EQ(MustParse("x <> 1"), Filter::Ne("x", 1));
  EXPECT_EQ(MustParse("x < 1"), Filter::Lt("x", 1));
  EXPECT_EQ(MustParse("x <= 1"), Filter::Le("x", 1));
  EXPECT_EQ(MustParse("x > 1"), Filter::Gt("x", 1));
  EXPECT_EQ(MustParse("x >= 1"), Filter::Ge("x", 1));
  EXPECT_EQ(MustParse("x>=-5"), Filter::Ge("x", -5));
  EXPECT_EQ(MustParse("x<>'a'"), Filter::Ne("x", "a"));
  EXPECT_EQ(MustParse("flag = TRUE"), Filter::Eq("flag", true));
  EXPECT_EQ(MustParse("flag = false"), Filter::Eq("flag", false));
}

TEST(FilterParserTest, ListRangeContainsAndNullConditions) {
  EXPECT_EQ(MustParse("x IN (1, 2.5, 3)"), Filter::In("x", {1, 2.5, 3}));
  EXPECT_EQ(MustParse("x NOT IN ('a')"), Filter::NotIn("x", {"a"}));
  EXPECT_EQ(MustParse("x BETWEEN 1 AND 2"), Filter::Between("x", 1, 2));
  EXPECT_EQ(MustParse("tags CONTAINS 'a'"), Filter::Contains("tags", "a"));
  EXPECT_EQ(MustParse("tags CONTAINS ANY ('a', 'b')"), Filter::ContainsAny("tags", {"a", "b"}));
  EXPECT_EQ(MustParse("tags CONTAINS ALL ('a','b')"), Filter::ContainsAll("tags", {"a", "b"}));
  EXPECT_EQ(MustParse("x IS NULL"), Filter::IsNull("x"));
  EXPECT_EQ(MustParse("x IS NOT NULL"), Filter::IsNotNull("x"));
}

TEST(FilterParserTest, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(
      MustParse("x in (1) and not y is not null Or z between 1 AnD 2 or t contains any ('a')"),
      Filter::Or({Filter::And(Filter::In("x", {1}), Filter::Not(Filter::IsNotNull("y"))),
                  Filter::Between("z", 1, 2), Filter::ContainsAny("t", {"a"})}));
}

TEST(FilterParserTest, BetweenTakesItsOwnAnd) {
  EXPECT_EQ(
      MustParse("release_year BETWEEN 2000 AND 2010 AND country = 'India'"),
      Filter::And(Filter::Between("release_year", 2000, 2010), Filter::Eq("country", "India")));
  EXPECT_EQ(MustParse("a BETWEEN 1 AND 2 OR b BETWEEN 3 AND 4"),
            Filter::Or(Filter::Between("a", 1, 2), Filter::Between("b", 3, 4)));
}

TEST(FilterParserTest, Precedence) {
  const Filter a = Filter::Eq("a", 1), b = Filter::Eq("b", 2), c = Filter::Eq("c", 3);
  EXPECT_EQ(MustParse("a = 1 OR b = 2 AND c = 3"), Filter::Or(a, Filter::And(b, c)));
  EXPECT_EQ(MustParse("a = 1 AND b = 2 OR c = 3"), Filter::Or(Filter::And(a, b), c));
  EXPECT_EQ(MustParse("(a = 1 OR b = 2) AND c = 3"), Filter::And(Filter::Or(a, b), c));
  EXPECT_EQ(MustParse("NOT a = 1 AND b = 2"), Filter::And(Filter::Not(a), b));
  EXPECT_EQ(MustParse("NOT (a = 1 AND b = 2)"), Filter::Not(Filter::And(a, b)));
  EXPECT_EQ(MustParse("NOT NOT a = 1"), Filter::Not(Filter::Not(a)));
  // Parentheses do not survive: the tree is flattened the way the builders flatten it.
  EXPECT_EQ(MustParse("a = 1 AND (b = 2 AND c = 3)"), Filter::And({a, b, c}));
  EXPECT_EQ(MustParse("((a = 1))"), a);
  EXPECT_EQ(MustParse("TRUE AND a = 1"), a);
  EXPECT_EQ(MustParse("FALSE OR a = 1"), a);
  EXPECT_EQ(MustParse("a = 1 AND FALSE"), Filter::None());
}

TEST(FilterParserTest, Numbers) {
  EXPECT_EQ(MustParse("x = 5"), Filter::Eq("x", int64_t{5}));
  EXPECT_EQ(MustParse("x = 5.0"), Filter::Eq("x", 5.0));
  EXPECT_EQ(MustParse("x = 5e2"), Filter::Eq("x", 500.0));
  EXPECT_EQ(MustParse("x = 5E-1"), Filter::Eq("x", 0.5));
  EXPECT_EQ(MustParse("x = -0.25"), Filter::Eq("x", -0.25));
  EXPECT_EQ(MustParse("x = .5"), Filter::Eq("x", 0.5));
  EXPECT_EQ(MustParse("x = -.5"), Filter::Eq("x", -0.5));
  EXPECT_EQ(MustParse("x = 1."), Filter::Eq("x", 1.0));
  EXPECT_EQ(MustParse("x = 007"), Filter::Eq("x", 7));
  EXPECT_EQ(MustParse("x = 9223372036854775807"),
            Filter::Eq("x", std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(MustParse("x = -9223372036854775808"),
            Filter::Eq("x", std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(MustParse("x = 1.7976931348623157e308"),
            Filter::Eq("x", std::numeric_limits<double>::max()));
  EXPECT_EQ(MustParse("x = 5e-324"), Filter::Eq("x", std::numeric_limits<double>::denorm_min()));
}

TEST(FilterParserTest, Strings) {
  EXPECT_EQ(MustParse("x = 'it''s'"), Filter::Eq("x", "it's"));
  EXPECT_EQ(MustParse(R"(x = 'it\'s')"), Filter::Eq("x", "it's"));
  EXPECT_EQ(MustParse(R"(x = 'a\\b\"c')"), Filter::Eq("x", "a\\b\"c"));
  EXPECT_EQ(MustParse(R"(x = '\n\r\t')"), Filter::Eq("x", "\n\r\t"));
  EXPECT_EQ(MustParse(R"(x = '\u00e9\u00E9')"), Filter::Eq("x", "\xc3\xa9\xc3\xa9"));
  EXPECT_EQ(MustParse(R"(x = '\u20AC')"), Filter::Eq("x", "\xe2\x82\xac"));
  EXPECT_EQ(MustParse(R"(x = '\uD83D\uDE00')"), Filter::Eq("x", "\xf0\x9f\x98\x80"));
  EXPECT_EQ(MustParse(R"(x = '\u0000')"), Filter::Eq("x", std::string(1, '\0')));
  EXPECT_EQ(MustParse("x = 'caf\xc3\xa9'"), Filter::Eq("x", "caf\xc3\xa9"));
  EXPECT_EQ(MustParse("x = 'two\nlines'"), Filter::Eq("x", "two\nlines"));
  EXPECT_EQ(MustParse("x = ''"), Filter::Eq("x", ""));
}

TEST(FilterParserTest, AttributeNames) {
  EXPECT_EQ(MustParse("a.b-c_9 = 1"), Filter::Eq("a.b-c_9", 1));
  EXPECT_EQ(MustParse("_x = 1"), Filter::Eq("_x", 1));
  EXPECT_EQ(MustParse("`release year` = 1"), Filter::Eq("release year", 1));
  EXPECT_EQ(MustParse("`a``b` = 1"), Filter::Eq("a`b", 1));
  EXPECT_EQ(MustParse("\"x y\" = 1"), Filter::Eq("x y", 1));
  EXPECT_EQ(MustParse("\"a\"\"b\" = 1"), Filter::Eq("a\"b", 1));
  EXPECT_EQ(MustParse("`in` = 1 AND `NULL` IS NULL"),
            Filter::And(Filter::Eq("in", 1), Filter::IsNull("NULL")));
  // Keywords are whole words: names that merely start with one are names.
  EXPECT_EQ(
      MustParse("index = 1 AND android = 2 AND true-ish = 3"),
      Filter::And({Filter::Eq("index", 1), Filter::Eq("android", 2), Filter::Eq("true-ish", 3)}));
}

TEST(FilterParserTest, SyntaxErrorsNamePositionAndExpectation) {
  EXPECT_EQ(ParseError("release_year >= )"),
            "filter: at position 16: expected a literal after '>=', found ')'");
  EXPECT_EQ(ParseError("x = 1 AND"),
            "filter: at position 9: expected an attribute name, '(' or NOT, found end of input");
  EXPECT_EQ(ParseError("x = 1 y = 2"),
            "filter: at position 6: expected AND, OR or end of input, found 'y'");
  EXPECT_EQ(ParseError("x = 1)"),
            "filter: at position 5: expected AND, OR or end of input, found ')'");
  EXPECT_EQ(ParseError("(x = 1"),
            "filter: at position 6: expected AND, OR or ')' to close the '(' at position 0, found "
            "end of input");
  EXPECT_EQ(ParseError("x"),
            "filter: at position 1: expected an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, "
            "BETWEEN, CONTAINS, IS) after x, found end of input");
  EXPECT_EQ(ParseError("AND = 1"),
            "filter: at position 0: expected an attribute name, '(' or NOT (quote a name that is a "
            "keyword: `AND`), found keyword AND");
  EXPECT_EQ(ParseError("x = y"), "filter: at position 4: expected a literal after '=', found 'y'");
  EXPECT_EQ(ParseError("x = AND"),
            "filter: at position 4: expected a literal after '=', found keyword AND");
  EXPECT_EQ(
      ParseError("x = NULL"),
      "filter: at position 4: NULL is not a value to compare with; test for it with IS NULL or "
      "IS NOT NULL");
  EXPECT_EQ(ParseError("x IN 1"), "filter: at position 5: expected '(' after IN, found '1'");
  EXPECT_EQ(ParseError("x IN ()"),
            "filter: at position 6: expected a literal after '(', found ')'");
  EXPECT_EQ(ParseError("x IN (1,)"),
            "filter: at position 8: expected a literal after ',', found ')'");
  EXPECT_EQ(ParseError("x IN (1 2)"),
            "filter: at position 8: expected ',' or ')' in the list of IN, found '2'");
  EXPECT_EQ(
      ParseError("x NOT IN (1"),
      "filter: at position 11: expected ',' or ')' in the list of NOT IN, found end of input");
  EXPECT_EQ(ParseError("x NOT 5"), "filter: at position 6: expected IN after x NOT, found '5'");
  EXPECT_EQ(
      ParseError("x BETWEEN 1 OR 2"),
      "filter: at position 12: expected AND after the lower bound of BETWEEN, found keyword OR");
  EXPECT_EQ(ParseError("x BETWEEN AND 2"),
            "filter: at position 10: expected a literal after BETWEEN, found keyword AND");
  EXPECT_EQ(ParseError("x BETWEEN 1 AND"),
            "filter: at position 15: expected a literal after BETWEEN ... AND, found end of input");
  EXPECT_EQ(ParseError("tags CONTAINS 5"),
            "filter: at position 14: expected a string, ANY or ALL after CONTAINS, found '5'");
  EXPECT_EQ(ParseError("tags CONTAINS ANY 'a'"),
            "filter: at position 18: expected '(' after CONTAINS ANY, found string 'a'");
  EXPECT_EQ(ParseError("tags CONTAINS ALL ('a', 5)"),
            "filter: at position 24: expected a string after ',', found '5'");
  EXPECT_EQ(ParseError("x IS 5"),
            "filter: at position 5: expected NULL or NOT NULL after IS, found '5'");
  EXPECT_EQ(ParseError("x IS NOT TRUE"),
            "filter: at position 9: expected NULL after IS NOT, found keyword TRUE");
  EXPECT_EQ(ParseError("NOT"),
            "filter: at position 3: expected an attribute name, '(' or NOT, found end of input");
  EXPECT_EQ(ParseError("()"),
            "filter: at position 1: expected an attribute name, '(' or NOT, found ')'");
}

TEST(FilterParserTest, LexicalErrors) {
  EXPECT_EQ(ParseError("x ! 1"),
            "filter: at position 2: unexpected character '!' (not equal is != or <>)");
  EXPECT_EQ(ParseError("x = 1 # y"), "filter: at position 6: unexpected character '#'");
  EXPECT_EQ(ParseError("x = \x01"), "filter: at position 4: unexpected character '\\x01'");
  EXPECT_EQ(ParseError("x = 'abc"), "filter: at position 4: unterminated string");
  EXPECT_EQ(ParseError("x = 'abc\\"), "filter: at position 4: unterminated string");
  EXPECT_EQ(ParseError(R"(x = 'a\qb')"),
            R"(filter: at position 6: unknown escape '\q' in a string (escapes: \' \" \\ \n \r \t )"
            R"(\uXXXX))");
  EXPECT_EQ(ParseError(R"(x = '\u12')"),
            R"(filter: at position 5: expected four hex digits after \u)");
  EXPECT_EQ(ParseError(R"(x = '\u12G4')"),
            R"(filter: at position 5: expected four hex digits after \u)");
  EXPECT_EQ(ParseError(R"(x = '\uD800')"),
            R"(filter: at position 5: \u escape of a high surrogate not followed by a \u low )"
            "surrogate");
  EXPECT_EQ(ParseError(R"(x = '\uD800\u0041')"),
            R"(filter: at position 5: \u escape of a high surrogate not followed by a \u low )"
            "surrogate");
  EXPECT_EQ(ParseError(R"(x = '\uDC00')"),
            R"(filter: at position 5: \u escape of a low surrogate without a high surrogate )"
            "before it");
  EXPECT_EQ(ParseError("`` = 1"), "filter: at position 0: empty attribute name");
  EXPECT_EQ(ParseError("\"\" = 1"), "filter: at position 0: empty attribute name");
  EXPECT_EQ(ParseError("`abc = 1"), "filter: at position 0: unterminated quoted attribute name");
  EXPECT_EQ(ParseError("x = 99999999999999999999"),
            "filter: at position 4: the integer 99999999999999999999 does not fit in 64 bits");
  EXPECT_EQ(ParseError("x = 9223372036854775808"),
            "filter: at position 4: the integer 9223372036854775808 does not fit in 64 bits");
  EXPECT_EQ(ParseError("x = -9223372036854775809"),
            "filter: at position 4: the integer -9223372036854775809 does not fit in 64 bits");
  EXPECT_EQ(ParseError("x = 1e999"),
            "filter: at position 4: the number 1e999 is outside the range of a double");
  EXPECT_EQ(ParseError("x = 1e"),
            "filter: at position 4: expected digits in the exponent of the number '1e'");
  EXPECT_EQ(ParseError("x = 1e+"),
            "filter: at position 4: expected digits in the exponent of the number '1e+'");
  EXPECT_EQ(ParseError("x = 12abc"), "filter: at position 4: malformed number '12abc'");
  EXPECT_EQ(ParseError("x = 1.2.3"), "filter: at position 4: malformed number '1.2.3'");
  EXPECT_EQ(ParseError("x = -"), "filter: at position 4: unexpected character '-'");
}

TEST(FilterParserTest, LongTokensAreCutShortInMessages) {
  const std::string name(100, 'n');
  EXPECT_EQ(ParseError("x = 1 " + name),
            "filter: at position 6: expected AND, OR or end of input, found '" +
                std::string(40, 'n') + "...'");
}

TEST(FilterParserTest, MultiLineTextsGiveLineAndColumn) {
  EXPECT_EQ(ParseError("x = 1\nAND\n  y >"),
            "filter: at position 15 (line 3, column 6): expected a literal after '>', found end of "
            "input");
  EXPECT_EQ(ParseError("x = )\n"),
            "filter: at position 4 (line 1, column 5): expected a literal after '=', found ')'");
}

TEST(FilterParserTest, LiteralsThatCanNeverBeSatisfiedTogetherAreErrors) {
  EXPECT_EQ(ParseError("y = 1 AND x IN (1, 'a')"),
            "filter: at position 10: x IN (1, 'a'): cannot compare with both int 1 and string 'a'");
  EXPECT_EQ(
      ParseError("x NOT IN (TRUE, 0)"),
      "filter: at position 0: x NOT IN (TRUE, 0): cannot compare with both bool TRUE and int 0");
  EXPECT_EQ(ParseError("x BETWEEN 1 AND 'z'"),
            "filter: at position 0: x BETWEEN 1 AND 'z': cannot compare with both int 1 and string "
            "'z'");
  EXPECT_EQ(ParseError("x < TRUE"),
            "filter: at position 0: x < TRUE: booleans have no order; compare them with = or !=");
  EXPECT_EQ(ParseError("x BETWEEN FALSE AND TRUE"),
            "filter: at position 0: x BETWEEN FALSE AND TRUE: booleans have no order; compare them "
            "with = or !=");
  // Ints and doubles mix.
  EXPECT_EQ(ParseError("x IN (1, 2.5) AND y BETWEEN 1 AND 2.5"), "OK");
}

std::string Nested(int levels, std::string_view open, std::string_view inner,
                   std::string_view close) {
  std::string text;
  for (int i = 0; i < levels; ++i) text += open;
  text += inner;
  for (int i = 0; i < levels; ++i) text += close;
  return text;
}

TEST(FilterParserTest, NestingIsLimited) {
  EXPECT_EQ(ParseError(Nested(kMaxFilterDepth, "(", "x = 1", ")")), "OK");
  EXPECT_EQ(ParseError(Nested(kMaxFilterDepth + 1, "(", "x = 1", ")")),
            "filter: at position 256: nesting deeper than 256 levels of parentheses and NOT");
  EXPECT_EQ(ParseError(Nested(kMaxFilterDepth, "NOT ", "x = 1", "")), "OK");
  EXPECT_EQ(ParseError(Nested(kMaxFilterDepth + 1, "NOT ", "x = 1", "")),
            "filter: at position 1024: nesting deeper than 256 levels of parentheses and NOT");
  EXPECT_EQ(ParseError(Nested(kMaxFilterDepth / 2, "NOT (", "x = 1", ")")), "OK");
  EXPECT_THAT(ParseFilter(Nested(kMaxFilterDepth / 2 + 1, "NOT (", "x = 1", ")")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("nesting deeper")));
  // Far deeper than any stack could recurse: still an error, not a crash.
  EXPECT_THAT(ParseFilter(std::string(60000, '(')),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("nesting deeper")));
  // Long flat chains are not nesting.
  std::string chain = "x = 0";
  for (int i = 1; i < 2000; ++i) chain += " AND x = " + std::to_string(i);
  ASSERT_OK_AND_ASSIGN(Filter filter, ParseFilter(chain));
  EXPECT_EQ(filter.operands().size(), 2000u);
}

TEST(FilterParserTest, LengthIsLimited) {
  const std::string prefix = "x = 1";
  EXPECT_EQ(ParseError(prefix + std::string(kMaxFilterTextBytes - prefix.size(), ' ')), "OK");
  EXPECT_EQ(ParseError(prefix + std::string(kMaxFilterTextBytes + 1 - prefix.size(), ' ')),
            "filter: the text is 65537 bytes long; the limit is 65536");
}

// Each text is already canonical: it parses, prints back identically, and reparses to an equal
// filter.
TEST(FilterParserTest, CanonicalTextsRoundTrip) {
  const char* const kTexts[] = {
      "TRUE",
      "FALSE",
      "x = 1",
      "x != -1",
      "x < 2.5",
      "x <= -0.0",
      "x > 1e+300",
      "x >= 5e-324",
      "x = 1.0",
      "x = 123456789.0",
      "x = 0.1",
      "x = 'a b'",
      "x = 'it\\'s \\\\ \\n\\r\\t \\u0001\\u007F \xc3\xa9'",
      "x = TRUE",
      "x IN (1, 2.5, 3)",
      "x NOT IN ('a', 'b')",
      "x BETWEEN -9223372036854775808 AND 9223372036854775807",
      "tags CONTAINS 'a'",
      "tags CONTAINS ANY ('a')",
      "tags CONTAINS ALL ('a', 'b')",
      "x IS NULL",
      "x IS NOT NULL",
      "`release year` = 1",
      "`a``b\"c` = 1",
      "`in` = 1",
      "`2x` = 1",
      "`\xc3\xa9t\xc3\xa9` = 1",
      "a = 1 AND b = 2 AND c = 3",
      "a = 1 OR b = 2 AND c = 3",
      "(a = 1 OR b = 2) AND c = 3",
      "NOT a = 1",
      "NOT NOT a = 1",
      "NOT (a = 1 AND b = 2)",
      "NOT (a = 1 OR b = 2) AND NOT c BETWEEN 1 AND 2",
      "a BETWEEN 1 AND 2 AND b = 3",
  };
  for (const char* text : kTexts) {
    ASSERT_OK_AND_ASSIGN(Filter filter, ParseFilter(text));
    EXPECT_EQ(filter.ToString(), text);
    ASSERT_OK_AND_ASSIGN(Filter again, ParseFilter(filter.ToString()));
    EXPECT_EQ(again, filter) << text;
  }
}

// Texts that parse to the canonical text on the right.
TEST(FilterParserTest, NonCanonicalTextsPrintCanonically) {
  const std::pair<const char*, const char*> kCases[] = {
      {"x<>1", "x != 1"},
      {"x = 5e2", "x = 500.0"},
      {"x = .5", "x = 0.5"},
      {"x = 1e20", "x = 1e+20"},
      {"x = 'it''s'", "x = 'it\\'s'"},
      {"x = '\\\"'", "x = '\"'"},
      {"x = '\\u00e9'", "x = '\xc3\xa9'"},
      {"\"y\" = true", "y = TRUE"},
      {"((a = 1)) and (b = 2 AND (c = 3))", "a = 1 AND b = 2 AND c = 3"},
      {"a = 1 OR (b = 2 AND c = 3)", "a = 1 OR b = 2 AND c = 3"},
      {"x = 1 AND TRUE", "x = 1"},
      {"x = 1 OR TRUE", "TRUE"},
      {"NOT FALSE", "TRUE"},
      {"x = 'two\nlines'", "x = 'two\\nlines'"},
  };
  for (const auto& [text, canonical] : kCases) {
    ASSERT_OK_AND_ASSIGN(Filter filter, ParseFilter(text));
    EXPECT_EQ(filter.ToString(), canonical) << text;
    ASSERT_OK_AND_ASSIGN(Filter again, ParseFilter(filter.ToString()));
    EXPECT_EQ(again, filter) << text;
  }
}

}  // namespace
}  // namespace ember
