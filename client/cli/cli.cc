// Command dispatch and usage texts of the `edgepass` CLI.
#include <string>

#include "client/cli/commands.h"

namespace edgepass::cli {

std::string MainUsage() {
  return R"(Usage: edgepass <command> [flags]

Commands:
  token issue    sign a token offline from a keyring, a policy and a viewer
  token verify   check an edge request against a keyring, offline
  token explain  decode a token or playback URL and say why a request is
                 allowed or refused (viewer attributes, key, times)
  issue          ask a running edgepass service for a playback URL
  analyze        find shared sessions in CDN access logs; report them as AUTO
                 revocations, or print the same analysis as SQL
                 ('edgepass analyze --help')

Operating the service (over gRPC; 'edgepass <command> --help' for each):
  asset          put|get|list|delete the catalog's assets
  policy         put|get|list|delete named token policies
  session        revoke|report|list|restore playback sessions
  validators     list the validators of a replica, their version and lag
  keys           status|rotate the token signing keys
  cloudfront-key put a CloudFront private key

  edgepass issue ASSET_ID --server ADDR [--ip A] [--country C] [--region R]
      [--city C] [--session-id S] [--header NAME=VALUE]... [--query NAME=VALUE]...
      [--json] [--deadline DURATION] [--api-key-file FILE] [--server-ca FILE]
      [--insecure-plaintext]
    Prints the playback URL, or the whole IssuePlaybackResponse as JSON with
    --json. --deadline is per call (default 5s). --api-key-file (default
    $EDGEPASS_API_KEY_FILE): a file only its owner can read holding an API key
    with scope issue, sent as a bearer token. --server-ca: TLS to the server,
    verified against this CA bundle. Without it a key is sent only to a
    loopback --server, unless --insecure-plaintext.

Run 'edgepass token --help' for the token commands.

Exit codes:
  0  success (token verify, token explain: allowed)
  1  token verify, token explain: denied; token issue: no token can be issued for these inputs;
     issue: the service refused the call (INVALID_ARGUMENT, NOT_FOUND,
     UNAUTHENTICATED, PERMISSION_DENIED, ...); the operator commands likewise
  2  bad usage: unknown or missing flag, unreadable or invalid file
  3  issue and the operator commands: service unreachable in time
     (UNAVAILABLE, DEADLINE_EXCEEDED); retry
gRPC errors are printed on stderr as "edgepass <command>: <CODE>: <message>".
)";
}

std::string TokenUsage() {
  return R"(Usage:
  edgepass token issue --keyring FILE --policy FILE --viewer FILE [--url URL]
      [--now EPOCH] [--key-id KID]
    Prints the token, or URL with the token inserted as first path segment.
    --policy: SMD token policy JSON; --viewer: SMD viewer attributes JSON
    ({"ip","co","reg","cty","sessionId","headers":{},"qs":{}}).
    --keyring: {"keys":[{"id","value","state"}]} or SMD's
    {"primary":{"uuid","value"},"secondary":{...}}. Signs with the primary key,
    or --key-id (a key id, or "primary"/"secondary"). URL query values fill
    bound query parameters the viewer file lacks.

  edgepass token verify --keyring FILE --uri URI [--header NAME=VALUE]...
      [--query NAME=VALUE]... [--ip ADDR] [--now EPOCH] [--revoked FILE]
    Prints {"allow":bool,"path":...,"session_id":...,"reason":...} on one line.
    A query in --uri ("?a=1&b=%20") is split off and percent-decoded; --query
    values are taken as given. --revoked: JSON list of revoked session ids.
    Exit 0 allowed, 1 denied, 2 bad usage.

  edgepass token explain --keyring FILE (TOKEN | PATH | URL | --uri URI)
      [--path PATH] [--header NAME=VALUE]... [--query NAME=VALUE]... [--ip ADDR]
      [--now EPOCH] [--revoked FILE] [--expected-ip ADDR]
      [--expected-header NAME=VALUE]... [--expected-query NAME=VALUE]... [--json]
    Decodes the token (header, claims, times in UTC, key id, whether --keyring
    has that key and its state) and checks the request the other flags give,
    as token verify does: prints the viewer-attribute string the validator
    builds and the first reason it refuses, or that it allows. A URL's or
    PATH's query is part of the request; a bare TOKEN is checked against
    --path, else its first `paths` prefix. --expected-*: the values the viewer
    had when the URL was issued (the rest of the request is kept): the two
    attribute strings are shown side by side and the token's intsig is
    checked against both. --json: one JSON document for scripts.
    Exit 0 allowed, 1 denied, 2 bad usage.

  EPOCH is Unix seconds; the default is the current time.
)";
}

int RunCli(absl::Span<const std::string> args, CliEnv& env) {
  if (args.empty()) {
    env.err << MainUsage();
    return kExitUsage;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    env.out << MainUsage();
    return kExitOk;
  }
  if (command == "issue") return RunIssue(args.subspan(1), env);
  if (command == "analyze") return RunAnalyze(args.subspan(1), env);
  if (command == "asset") return RunAsset(args.subspan(1), env);
  if (command == "policy") return RunPolicy(args.subspan(1), env);
  if (command == "session") return RunSession(args.subspan(1), env);
  if (command == "validators") return RunValidators(args.subspan(1), env);
  if (command == "keys") return RunKeys(args.subspan(1), env);
  if (command == "cloudfront-key") return RunCloudFrontKey(args.subspan(1), env);
  if (command == "token") {
    if (args.size() < 2) {
      env.err << TokenUsage();
      return kExitUsage;
    }
    const std::string& sub = args[1];
    if (sub == "--help" || sub == "-h" || sub == "help") {
      env.out << TokenUsage();
      return kExitOk;
    }
    if (sub == "issue") return RunTokenIssue(args.subspan(2), env);
    if (sub == "verify") return RunTokenVerify(args.subspan(2), env);
    if (sub == "explain") return RunTokenExplain(args.subspan(2), env);
    env.err << "edgepass token: unknown command '" << sub << "'\n"
            << TokenUsage();
    return kExitUsage;
  }
  env.err << "edgepass: unknown command '" << command << "'\n" << MainUsage();
  return kExitUsage;
}

}  // namespace edgepass::cli
