// The `edgepass token explain` report (token_explain.h) as aligned text for
// people: one labelled line per fact, and with --expected-* values the two
// viewer-attribute strings side by side, attribute by attribute.
//
//   std::cout << RenderExplanation(ExplainToken(request, &expected, keys,
//                                               revoked, now));
#ifndef EDGEPASS_CLIENT_EXPLAIN_TOKEN_EXPLAIN_TEXT_H_
#define EDGEPASS_CLIENT_EXPLAIN_TOKEN_EXPLAIN_TEXT_H_

#include <string>

#include "nlohmann/json.hpp"

namespace edgepass::explain {

// `report` must come from ExplainToken. Never fails; thread-safe.
std::string RenderExplanation(const nlohmann::ordered_json& report);

}  // namespace edgepass::explain

#endif  // EDGEPASS_CLIENT_EXPLAIN_TOKEN_EXPLAIN_TEXT_H_
