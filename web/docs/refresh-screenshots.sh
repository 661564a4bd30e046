#!/bin/sh
# Copies the user guide's screenshots (web/README.md) from the last browser-test run. Each comes from the
# test named beside it; run that test first (npx tap <file>), then this script, and look at the pictures
# before committing them. A screenshot the run did not produce keeps its previous copy (and is named).
set -eu
cd "$(dirname "$0")/../.."
src=test-output/screenshots
missing=0
while read -r from to test; do
  [ -z "$from" ] && continue
  if [ -f "$src/$from" ]; then cp "$src/$from" "web/docs/$to"; echo "web/docs/$to  <- $src/$from"
  else echo "MISSING $src/$from (from $test): web/docs/$to not refreshed" >&2; missing=1; fi
done <<'LIST'
h1-login.png                  login.png             test/web/h1-defects.browser.test.ts
h5-dashboard-24h.png          dashboard.png         test/web/h5-dashboard.browser.test.ts
sources.png                   sources.png           test/web/browser.test.ts
h2-subjects-1280.png          subjects.png          test/web/h2-subjects.browser.test.ts
h5-live-filtered.png          live-flows.png        test/web/h5-dashboard.browser.test.ts
h4-reports-preview.png        reports-preview.png   test/web/h4-bills.browser.test.ts
h4-bill-generated.png         bill.png              test/web/h4-bills.browser.test.ts
h3-users.png                  users.png             test/web/h3-editors.browser.test.ts
h1-account-new-operator.png   account.png           test/web/h1-defects.browser.test.ts
invoices-detail.png           invoices.png          test/web/invoices.browser.test.ts
h6-customer-1280.png          customer.png          test/web/h6-customer.browser.test.ts
admin-operators.png           admin-operators.png   test/web/browser.test.ts
LIST
exit $missing
