"""In-process fakes of the outside services crm-sync talks to, served over loopback for tests and demos."""
