"""Records handed to other systems in the field's standard formats (protocol §5): EPCIS 2.0
and the FSMA 204 sortable spreadsheet. Both stream, so a year of records never sits in memory."""
