#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "core/version.h"

TEST(Core, VersionAndErrorKinds) {
  EXPECT_STREQ(vv::version_string(), "0.1.0");
  try {
    vv::fail(vv::ErrorKind::kInput, "bad text");
    FAIL() << "fail() returned";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
    EXPECT_STREQ(e.what(), "bad text");
  }
}
