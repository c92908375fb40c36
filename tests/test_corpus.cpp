// The corpus: manifest, lookup order, real/custom/generated, checksums, generator determinism.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "fixtures/corpus.hpp"
#include "fixtures/digest_cache.hpp"
#include "tests/support/oracle.hpp"
#include "workloads/unicode.hpp"

namespace cbench {
namespace {

// Sets or unsets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Manifest, ListsTheEightBooksInCanonicalOrderThenTheStopWords) {
  EXPECT_EQ(canonical_book_names(), testing::kCanonicalBooks);
  ASSERT_EQ(manifest().size(), 9u);
  EXPECT_EQ(manifest().back().path, "stop-words/english.txt");
  for (const auto& entry : manifest()) {
    EXPECT_EQ(entry.sha256.size(), 64u) << entry.path;
    EXPECT_GT(entry.bytes, 0u) << entry.path;
    EXPECT_TRUE(entry.url.starts_with("https://")) << entry.path;
    EXPECT_EQ(entry.url.find(' '), std::string::npos) << "unencoded space in " << entry.url;
  }
}

TEST(Generator, IsDeterministicExactInSizeAndValidUtf8) {
  const auto a = generate_book("Metamorphosis", 139054, 2016);
  EXPECT_EQ(a, generate_book("Metamorphosis", 139054, 2016));
  EXPECT_EQ(a.size(), 139054u);
  EXPECT_NE(a, generate_book("Metamorphosis", 139054, 2017));
  EXPECT_NE(a.substr(0, 1000), generate_book("Gulliver", 139054, 2016).substr(0, 1000));
  EXPECT_NO_THROW(unicode::check_utf8(a));
  EXPECT_TRUE(std::any_of(a.begin(), a.end(), [](char c) { return (c & 0x80) != 0; }))
      << "no non-ASCII word was generated";
  for (std::uint64_t size : {0u, 1u, 2u, 7u, 100u}) {
    EXPECT_EQ(generate_book("x", size, 1).size(), size);
  }
}

TEST(Generator, LooksLikeProseWhoseTopWordIsNotAStopWord) {
  const Corpus corpus = generated_corpus(2016);
  for (const auto& book : corpus.books) {
    const WordCount top = most_common_word(book.text, corpus.stop_words);
    EXPECT_GT(top.count, 10u) << book.name;
    EXPECT_EQ(std::find(corpus.stop_words.begin(), corpus.stop_words.end(), top.word),
              corpus.stop_words.end())
        << book.name << ": " << top.word;
  }
}

TEST(GeneratedCorpus, HasTheManifestsNamesAndSizes) {
  const Corpus corpus = generated_corpus(2016);
  EXPECT_EQ(corpus.kind, CorpusKind::generated);
  ASSERT_EQ(corpus.books.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(corpus.books[i].name, testing::kCanonicalBooks[i]);
    EXPECT_EQ(corpus.books[i].text.size(), manifest()[i].bytes) << testing::kCanonicalBooks[i];
  }
  EXPECT_FALSE(corpus.stop_words.empty());
  EXPECT_EQ(corpus.checksum, generated_corpus(2016).checksum);
  EXPECT_NE(corpus.checksum, generated_corpus(7).checksum);
  EXPECT_NE(corpus.describe().find("generated"), std::string::npos);
}

TEST(RealCorpus, IsRecognisedByItsChecksums) {
  auto fixtures = testing::real_fixtures();
  if (!fixtures) GTEST_SKIP() << "CBENCH_FIXTURES is not set: no real corpus";
  const Corpus corpus = load_corpus_from(*fixtures);
  EXPECT_EQ(corpus.kind, CorpusKind::real);
  ASSERT_EQ(corpus.books.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(corpus.books[i].name, testing::kCanonicalBooks[i]);
  EXPECT_EQ(corpus.stop_words.front(), "a");
  EXPECT_EQ(corpus.checksum.size(), 64u);
  EXPECT_NE(corpus.describe().find("real"), std::string::npos);
}

TEST(CustomCorpus, KeepsCanonicalOrderThenOthersByNameAndIsCalledCustom) {
  testing::TempDir dir;
  dir.write("books/Zebra.txt", "zebra stripes\n");
  dir.write("books/Metamorphosis.txt", "gregor woke\n");
  dir.write("books/Apple.txt", "apple pie\n");
  dir.write("books/Gulliver.txt", "lilliput\n");
  dir.write("books/notes.md", "not a book");
  dir.write("stop-words/english.txt", "  the \n\nand\n");
  const Corpus corpus = load_corpus_from(dir.path());
  EXPECT_EQ(corpus.kind, CorpusKind::custom);
  std::vector<std::string> names;
  for (const auto& b : corpus.books) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Gulliver", "Metamorphosis", "Apple", "Zebra"}));
  EXPECT_EQ(corpus.stop_words, (StopWords{"the", "and"}));
  EXPECT_NE(corpus.describe().find("custom"), std::string::npos);
}

// The books are views of the files, mapped: an empty file is an empty book, and a copy of the
// corpus keeps what its books view alive after the corpus it was copied from is gone.
TEST(CustomCorpus, BooksAreViewsThatEveryCopyKeepsAlive) {
  testing::TempDir dir;
  dir.write("books/Gulliver.txt", "lilliput blefuscu\n");
  dir.write("books/Empty.txt", "");
  dir.write("stop-words/english.txt", "the\n");
  Corpus copy;
  {
    const Corpus corpus = load_corpus_from(dir.path());
    copy = corpus;
  }
  ASSERT_EQ(copy.books.size(), 2u);
  EXPECT_EQ(copy.book("Gulliver").text, "lilliput blefuscu\n");
  EXPECT_EQ(copy.book("Empty").text, "");
  EXPECT_EQ(copy.total_bytes(), 18u);
  Corpus made;
  made.add_book("Made", std::string(100'000, 'x'));
  const Corpus kept = made;
  made = Corpus{};
  EXPECT_EQ(kept.book("Made").text, std::string(100'000, 'x'));
}

TEST(CustomCorpus, MissingPartsAreErrorsNamingThem) {
  testing::TempDir dir;
  dir.write("books/Gulliver.txt", "lilliput\n");
  try {
    load_corpus_from(dir.path());
    FAIL() << "a corpus without stop words was loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stop-words/english.txt"), std::string::npos) << e.what();
  }
  testing::TempDir empty;
  std::filesystem::create_directories(empty.path() / "books");
  EXPECT_THROW(load_corpus_from(empty.path()), std::runtime_error);
}

// A FIFO would block the read for ever, a directory would read as an empty book: both are errors
// naming the entry, at once.
TEST(CustomCorpus, AnEntryThatIsNotARegularFileIsAnErrorNamingIt) {
  for (const char* kind : {"fifo", "directory", "dangling link"}) {
    testing::TempDir dir;
    dir.write("books/Gulliver.txt", "lilliput\n");
    dir.write("stop-words/english.txt", "the\n");
    const auto entry = dir.path() / "books" / "x.txt";
    if (std::string(kind) == "fifo") {
      ASSERT_EQ(::mkfifo(entry.c_str(), 0600), 0);
    } else if (std::string(kind) == "directory") {
      std::filesystem::create_directory(entry);
    } else {
      std::filesystem::create_symlink(dir.path() / "nowhere.txt", entry);
    }
    try {
      load_corpus_from(dir.path());
      FAIL() << "a corpus with a " << kind << " for a book was loaded";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("books/x.txt"), std::string::npos) << what;
      EXPECT_NE(what.find("not a regular file"), std::string::npos) << what;
    }
  }
}

// The cost-against-work sweep's corpus: S times the bytes of every book, the same stop words.
TEST(ScaledCorpus, GrowsEveryBookSTimes) {
  const Corpus base = generated_corpus(2016);
  const Corpus grown = scaled_corpus(base, 4, 2016);
  ASSERT_EQ(grown.books.size(), base.books.size());
  for (std::size_t i = 0; i < base.books.size(); ++i) {
    EXPECT_EQ(grown.books[i].name, base.books[i].name);
    EXPECT_EQ(grown.books[i].text.size(), 4 * base.books[i].text.size()) << base.books[i].name;
  }
  EXPECT_EQ(grown.kind, CorpusKind::generated);
  EXPECT_EQ(grown.stop_words, base.stop_words);
  EXPECT_NE(grown.checksum, base.checksum);
  EXPECT_NE(grown.origin.find("scale 4"), std::string::npos) << grown.origin;
  EXPECT_EQ(scaled_corpus(base, 1, 2016).checksum, base.checksum);

  testing::TempDir dir;
  dir.write("books/Gulliver.txt", "lilliput blefuscu");
  dir.write("stop-words/english.txt", "the\n");
  const Corpus custom = scaled_corpus(load_corpus_from(dir.path()), 3, 2016);
  EXPECT_EQ(custom.books.at(0).text, "lilliput blefuscu\nlilliput blefuscu\nlilliput blefuscu");
}

TEST(Lookup, FlagThenEnvironmentThenFetchedThenGenerated) {
  testing::TempDir flag_dir, env_dir;
  flag_dir.write("books/Gulliver.txt", "flag\n");
  flag_dir.write("stop-words/english.txt", "the\n");
  env_dir.write("books/Gulliver.txt", "environment\n");
  env_dir.write("stop-words/english.txt", "the\n");
  {
    ScopedEnv env("CBENCH_FIXTURES", env_dir.path().c_str());
    EXPECT_EQ(load_corpus({flag_dir.path()}).origin, flag_dir.path().string());
    EXPECT_EQ(load_corpus({}).origin, env_dir.path().string());
  }
  {
    ScopedEnv env("CBENCH_FIXTURES", nullptr);
    auto where = locate_corpus({});
    // Either the fetched copy, if scripts/fetch-fixtures ran, or the generated default.
    if (!where) {
      EXPECT_EQ(load_corpus({}).kind, CorpusKind::generated);
    }
  }
}

TEST(Lookup, ANamedFolderThatIsMissingIsAnErrorNotAFallback) {
  EXPECT_THROW(locate_corpus({std::filesystem::path("/nonexistent/cbench")}), std::runtime_error);
  ScopedEnv env("CBENCH_FIXTURES", "/nonexistent/cbench-env");
  try {
    locate_corpus({});
    FAIL() << "a missing CBENCH_FIXTURES folder was ignored";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CBENCH_FIXTURES"), std::string::npos) << e.what();
  }
}

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The digest cache (fixtures/digest_cache.hpp): a file's SHA-256 comes back for the same path and
// identity only, a file changed within the settling time is not remembered, and a cache file
// that is malformed or cannot be written costs a hash, never a wrong answer or an error.
FileIdentity identity_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  return FileIdentity::of(st);
}

TEST(DigestCache, GivesBackADigestForTheSamePathAndIdentityOnly) {
  testing::TempDir dir;
  const auto cache_file = dir.path() / "cache" / "sha256.tsv";
  const auto book = dir.write("books/Gulliver.txt", "lilliput\n");
  const FileIdentity identity = identity_of(book);
  const std::string digest = sha256_hex("lilliput\n");
  {
    DigestCache cache(cache_file, 0);
    cache.remember(book, identity, digest);
    cache.save();
  }
  DigestCache cache(cache_file);
  EXPECT_EQ(cache.find(book, identity), digest);
  EXPECT_EQ(cache.find(dir.path() / "books" / "Other.txt", identity), std::nullopt);
  for (auto change : {&FileIdentity::modified_ns, &FileIdentity::changed_ns}) {
    FileIdentity other = identity;
    other.*change += 1;
    EXPECT_EQ(cache.find(book, other), std::nullopt);
  }
  FileIdentity bigger = identity;
  bigger.size += 1;
  EXPECT_EQ(cache.find(book, bigger), std::nullopt);
}

TEST(DigestCache, AFileChangedWithinTheSettlingTimeIsNotRemembered) {
  testing::TempDir dir;
  const auto cache_file = dir.path() / "sha256.tsv";
  const auto book = dir.write("books/Gulliver.txt", "lilliput\n");  // changed just now
  DigestCache cache(cache_file);
  cache.remember(book, identity_of(book), sha256_hex("lilliput\n"));
  cache.save();
  EXPECT_FALSE(std::filesystem::exists(cache_file));
}

TEST(DigestCache, MalformedLinesAreSkippedAndAnUnwritableCacheIsIgnored) {
  testing::TempDir dir;
  const std::string good(64, 'a');
  const auto cache_file =
      dir.write("sha256.tsv", "garbage\n" + std::string(64, 'g') + "\t1\t2\t3\t4\t5\t/x\n" + good +
                                  "\t1\t2\tthree\t4\t5\t/y\n" + good +
                                  "\t1\t2\t3\t4\t5\trelative\n\n" + good + "\t1\t2\t3\t4\t5\t/z\n");
  DigestCache cache(cache_file);
  EXPECT_EQ(cache.find("/z", {1, 2, 3, 4, 5}), good);
  EXPECT_EQ(cache.find("/x", {1, 2, 3, 4, 5}), std::nullopt);
  EXPECT_EQ(cache.find("/y", {1, 2, 3, 4, 5}), std::nullopt);

  const auto blocked = dir.write("a-file", "");
  DigestCache unwritable(blocked / "cache" / "sha256.tsv", 0);  // its folder cannot exist
  unwritable.remember("/z", {1, 2, 3, 4, 5}, good);
  EXPECT_NO_THROW(unwritable.save());
}

// Through load_corpus_from: a cached digest names the book (a forged one shows it was used)
// until the file is written again, which changes its status-change time.
TEST(DigestCache, NamesACorpusUntilABookIsWrittenAgain) {
  testing::TempDir dir;
  const auto book = dir.write("corpus/books/Gulliver.txt", "lilliput\n");
  dir.write("corpus/stop-words/english.txt", "the\n");
  const auto cache_file = dir.path() / "sha256.tsv";
  ScopedEnv env("CBENCH_DIGEST_CACHE", "off");
  const std::string honest = load_corpus_from(dir.path() / "corpus").checksum;

  const FileIdentity identity = identity_of(book);
  const std::string forged(64, 'f');
  {
    DigestCache cache(cache_file, 0);
    cache.remember(std::filesystem::absolute(book).lexically_normal(), identity, forged);
    cache.save();
  }
  ScopedEnv use("CBENCH_DIGEST_CACHE", cache_file.c_str());
  const std::string cached = load_corpus_from(dir.path() / "corpus").checksum;
  EXPECT_NE(cached, honest);

  // Written again, same size: until the clock's tick has moved on, a write can leave the times
  // as they were, which is why the cache remembers only files left alone for two seconds.
  for (int tries = 0; tries < 200 && identity_of(book) == identity; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    dir.write("corpus/books/Gulliver.txt", "blefuscu\n");
  }
  ASSERT_NE(identity_of(book), identity);
  const std::string rewritten = load_corpus_from(dir.path() / "corpus").checksum;
  EXPECT_NE(rewritten, cached);
  ScopedEnv off("CBENCH_DIGEST_CACHE", "off");
  EXPECT_EQ(rewritten, load_corpus_from(dir.path() / "corpus").checksum);
}

}  // namespace
}  // namespace cbench
