//! Spreadsheet round trips: template → filled (GBK CSV, XLSX) → ingest → report; XLSX output read back.
