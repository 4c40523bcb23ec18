"""The EspoCRM connector: contacts (or leads), custom fields and target lists read over EspoCRM's REST API;
engagement written as CampaignLogRecords (and organisation Notes); e-mail flags set on the shared address."""
