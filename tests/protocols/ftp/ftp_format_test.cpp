#include "ftp_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "collage/accounts.h"

namespace collage::ftp {
namespace {

TEST(ResolvePath, RelativeAbsoluteAndDots) {
  EXPECT_EQ(resolve_path("/", "pub"), "/pub");
  EXPECT_EQ(resolve_path("/pub", "sub/f.txt"), "/pub/sub/f.txt");
  EXPECT_EQ(resolve_path("/pub", "/other"), "/other");
  EXPECT_EQ(resolve_path("/pub/sub", ".."), "/pub");
  EXPECT_EQ(resolve_path("/pub", ""), "/pub");
  EXPECT_EQ(resolve_path("/", "a%2fb"), "/a%2fb");  // '%' is literal in FTP
  // Above the root stays at the root, as vsftpd does (join_root confines it to the user's root).
  EXPECT_EQ(resolve_path("/", ".."), "/");
  EXPECT_EQ(resolve_path("/pub", "../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(resolve_path("/pub", "../../../"), "/");
}

TEST(JoinRoot, ConfinesUnderRoot) {
  EXPECT_EQ(join_root("/", "/pub/x"), "/pub/x");
  EXPECT_EQ(join_root("/home/alice", "/x"), "/home/alice/x");
  EXPECT_EQ(join_root("/home/alice/", "/"), "/home/alice/");
}

TEST(FormatReply, SingleAndMultiLine) {
  EXPECT_EQ(format_reply(200, "ok"), "200 ok\r\n");
  EXPECT_EQ(format_reply(211, "Features:\nUTF8\nEnd"), "211-Features:\r\n UTF8\r\n211 End\r\n");
}

TEST(ListLine, LooksLikeLs) {
  ListingEntry file{"a b.txt", false, 1234, 1700000000, 0644};
  EXPECT_EQ(list_line(file, 1700000000 + 60),
            "-rw-r--r-- 1 ftp ftp         1234 Nov 14 22:13 a b.txt\r\n");
  ListingEntry old{"dir", true, 4096, 1000000000, 0755};
  EXPECT_EQ(list_line(old, 1700000000), "drwxr-xr-x 1 ftp ftp         4096 Sep 09  2001 dir\r\n");
}

TEST(Mlsx, Facts) {
  ListingEntry file{"x", false, 3, 1700000000, 0644};
  EXPECT_EQ(mlsx_line(file, "r"), "type=file;size=3;modify=20231114221320;perm=r; x\r\n");
}

TEST(PortArguments, ParseAndRefuseGarbage) {
  auto port = parse_port_argument("127,0,0,1,4,1");
  ASSERT_TRUE(port);
  EXPECT_EQ(port->address, "127.0.0.1");
  EXPECT_EQ(port->port, 1025);
  EXPECT_FALSE(parse_port_argument("127,0,0,1,4"));
  EXPECT_FALSE(parse_port_argument("300,0,0,1,4,1"));
  EXPECT_FALSE(parse_port_argument("a,b,c,d,e,f"));
  auto eprt = parse_eprt_argument("|2|::1|2000|");
  ASSERT_TRUE(eprt);
  EXPECT_EQ(eprt->address, "::1");
  EXPECT_EQ(eprt->port, 2000);
  EXPECT_FALSE(parse_eprt_argument("|3|x|1|"));
  EXPECT_FALSE(parse_eprt_argument("|1|1.2.3.4|99999|"));
  EXPECT_FALSE(parse_eprt_argument("|2|:1|4|"));      // not an IPv6 address (a fuzzer found it)
  EXPECT_FALSE(parse_eprt_argument("|1|::1|2000|"));  // protocol 1 is IPv4
  EXPECT_FALSE(parse_eprt_argument("|1|1.2.3.999|2000|"));
  EXPECT_EQ(pasv_tuple("127.0.0.1", 1025), "(127,0,0,1,4,1)");
  EXPECT_EQ(pasv_tuple("::1", 1025), "");
}

TEST(Ascii, ConvertsBothWays) {
  std::string out;
  bool cr = false;
  to_network_ascii("a\nb\r\nc", cr, out);
  EXPECT_EQ(out, "a\r\nb\r\nc");
  out.clear();
  cr = false;
  from_network_ascii("a\r", cr, out);
  from_network_ascii("\nb\rc", cr, out);
  EXPECT_EQ(out, "a\nb\rc");
}

TEST(Accounts, RightsAndPasswords) {
  Rights rights;
  EXPECT_TRUE(parse_rights("read,mkdir", rights));
  EXPECT_TRUE(rights.read && rights.mkdir && !rights.write && !rights.remove);
  EXPECT_FALSE(parse_rights("read,fly", rights));

  const std::string path = ::testing::TempDir() + "/collage-ftp-users";
  {
    std::ofstream f(path);
    // openssl passwd -6 -salt saltsalt secret
    f << "bob:$6$saltsalt$"
         "TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1:/"
         "home/bob:read,write\n";
    f << "eve:plaintext:/:read\n";
  }
  Accounts accounts;
  ConfigErrors errors;
  EXPECT_FALSE(accounts.load(path, "FtpUserFile", SourceLocation{"c.xml", 3}, errors));
  ASSERT_EQ(errors.messages().size(), 1u);
  EXPECT_EQ(errors.messages()[0].rfind(path + ":2: ", 0), 0u);
  const Account* bob = accounts.find("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->root, "/home/bob");
  EXPECT_TRUE(Accounts::password_matches(*bob, "secret"));
  EXPECT_FALSE(Accounts::password_matches(*bob, "Secret"));
  EXPECT_FALSE(Accounts::password_matches(*bob, ""));
  EXPECT_EQ(accounts.find("eve"), nullptr);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace collage::ftp
