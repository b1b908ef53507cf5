#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write docs/ocp-conformance.md: every requirement ID of the OCP Datacenter
NVMe SSD Specification 2.7 that applies to an emulated drive, its status and
the test that shows it.

usage: scripts/ocp/conformance.py SPEC.md > docs/ocp-conformance.md

SPEC.md is a text conversion of the specification (for example
docs/Datacenter NVMe SSD Specification v2.7 Final.md of the public
repository circulardrives/cdi-grading-tool); only the requirement IDs are
taken from it (and whether an ID is marked obsolete). The statuses below are
this project's own assessment.
"""
import re
import sys

# Groups that concern the physical drive: one "not applicable" line each.
PHYSICAL = {
    "FF8639": "U.2 (SFF-8639) form factor",
    "FFE1L": "E1.L form factor", "FFE1S": "E1.S form factor",
    "FFE2": "E2 form factor", "FFE3": "E3 form factor", "FFM2": "M.2 form factor",
    "GFF": "general form factor", "LABL": "labels", "Barcode": "barcode labels",
    "Barcod": "barcode labels", "EMC": "electromagnetic compatibility",
    "ESD": "electrostatic discharge", "ROHS": "RoHS", "EYE": "PCIe eye diagrams",
    "PCM": "power measurement circuitry (peak power)", "REL": "reliability (MTBF, AFR)",
    "UBER": "uncorrectable bit error rate", "ENDUD": "rated endurance",
    "SLIFE": "shelf life", "DATAE": "data retention", "THERM": "thermal design",
    "THRMS": "thermal sensors", "SMBUS": "SMBus / I2C interface", "FRU": "FRU EEPROM",
    "LPWR": "low power (electrical)",
    "PCI": "PCI Express electrical, link and slot (QEMU's PCIe model)", "PCIERR": "PCIe error injection hardware",
    "EVC-SMBUS": "SMBus debug events", "EVC-MCTP": "MCTP debug events",
    "CERT": "certificates", "SDL": "secure development lifecycle",
    "SBT": "secure boot",
    "TP": "", "N": "",
    "F": "", "FFh": "", "FIPS": "", "SFF": "", "SFF-TA": "", "AES": "", "XTS-AES": "",
    "SHA": "", "SHA3": "", "SP800": "", "ML-DSA": "", "ML-KEM": "", "UTF": "",
    "NVM-Express-Management-Interface-Specification-Revision": "", "NVME-MI": "",
    "NMB": "", "IO": "", "IEC": "", "CFG": "", "NVMe": "", "FEATURE": "", "AEN": "",
}
# TCG security subsystem: not yet, as one group line each.
NOT_YET_GROUPS = {
    "TCG-ACT", "TCG-ASGN", "TCG-AUTH", "TCG-AUTHM", "TCG-BSID", "TCG-COMM",
    "TCG-CRYPTO", "TCG-FEATURE", "TCG-LOCKING", "TCG-PSID", "TCG-RACT", "TCG-SES",
    "TCG-TRAN", "TCGCE", "TCGHST-PE", "FDPDP", "FDPG", "FDPSRG", "FDPSRG2", "DIF", "DIX",
    "LMDS", "NVMe-MI", "SPDM", "SEC", "PLP", "S1667", "G1667", "EVC-SNP", "CTX-CTLR", "CTX-NS", "CTX-QUEUE",
    "STAT-CSD", "UTIL-FWHST", "UTIL-NM", "UTIL-PI", "DEVLMT", "SUS", "SFM", "SV",
}

E = "hw-ocp-nvme/engine"
U = E + "/src/ocp"
T = E + "/tests"
# Group defaults: (status, test or note).
GROUP = {
    "SMART": ("met", f"{U}/smart_ext.rs `every_field_offset`, `smart_27_version_per_ocp_version`"),
    "EREC": ("met", f"{U}/error_recovery.rs `field_offsets`, `erec_2_3_5_encodings`"),
    "EREC-FUNC": ("partial", "panics end with a reset; no autonomous recovery"),
    "EREC-AEN": ("met", "obsolete"),
    "LMDATA": ("met", f"{U}/latency.rs `page_offsets_and_counts`, `lmdata_35_38_version_and_size_per_ocp_version`"),
    "LMLOG": ("partial", f"{U}/latency.rs; no debug telemetry log"),
    "LMSF": ("met", f"{T}/ocp.rs `c3_counts_real_io_latency` and {U}/latency.rs"),
    "LMGF": ("met", f"{U}/latency.rs"),
    "DCLP": ("met", f"{U}/capabilities.rs `layout_and_consistency`, `dclp_11_version_per_ocp_version`"),
    "DSSDPSD": ("met", f"{T}/ocp_versions.rs `dclp_9_dssd_power_state_drives_nvme_power_state`"),
    "DSSDPSS": ("met", f"{U}/features.rs `dssdpss_1_2_dssd_power_state_validation`"),
    "DSSDPSG": ("met", f"{T}/ocp_versions.rs `dclp_9_dssd_power_state_drives_nvme_power_state`"),
    "SDSSDPS": ("met", f"{T}/ocp_versions.rs `dclp_9_dssd_power_state_drives_nvme_power_state`"),
    "GDSSDPS": ("met", f"{U}/features.rs `select_semantics_and_save`"),
    "URLP": ("met", f"{U}/unsupported.rs `layout`, `urlp_3_sorted_ids_per_version`"),
    "HWCOMP": ("met", f"{U}/hw_component.rs `header_and_walk_like_nvme_cli`"),
    "HWCLOG": ("met", f"{U}/hw_component.rs `hwclog_1_3_4_version2`"),
    "CITYPE": ("met", f"{U}/hw_component.rs `header_and_walk_like_nvme_cli`"),
    "COMPD": ("met", f"{U}/hw_component.rs `header_and_walk_like_nvme_cli`"),
    "TCGL": ("met", f"{U}/tcg.rs `tcgl_21_version3_layout` (no TCG: counts 0)"),
    "TELSTR-LOG": ("met", f"{U}/telemetry.rs `string_log_header_and_tables`"),
    "TELSLG": ("partial", f"{U}/telemetry.rs; statistics and events this drive records"),
    "TELDF": ("partial", f"{U}/telemetry.rs `teldf_1_2_6_header_of_2_6_and_2_7`; Data Area 2 empty"),
    "TELRI": ("partial", "reason identifier in log 08h header; no vendor error codes beyond the panic ID"),
    "TEL": ("partial", f"{T}/ocp.rs `telemetry_host_initiated_data_area1`"),
    "TEL-CFG": ("met", f"{T}/ocp.rs `ocp_features_round_trip` (FID C8h)"),
    "TEL-CFG-SF": ("met", f"{T}/ocp.rs `ocp_features_round_trip` (FID C8h)"),
    "TEL-CFG-GF": ("met", f"{T}/ocp.rs `ocp_features_round_trip` (FID C8h)"),
    "STATI": ("partial", "statistics 01h, 04h, 0Ah-10h, 13h, 18h-1Dh only"),
    "STATF": ("partial", f"{U}/telemetry.rs"),
    "EVF": ("partial", "event FIFO 1 only"),
    "EVENTD": ("partial", f"{U}/telemetry.rs"),
    "STR-EV": ("met", f"{U}/telemetry.rs"), "STR-ID": ("met", f"{U}/telemetry.rs"),
    "STR-VUEV": ("met", f"{U}/telemetry.rs"),
    "EVC-ASRT": ("partial", "firmware assert on panics"), "EVC-BS": ("partial", "boot complete"),
    "EVC-MEDIA": ("partial", "die offline"), "EVC-NVME": ("partial", "CC.EN, CSTS.CFS"),
    "EVC-PCI": ("not yet", "no PCIe events"), "EVC-RST": ("partial", "power cycle"),
    "EVC-TEMP": ("met", f"{U}/telemetry.rs"), "EVC-TS": ("met", "timestamp set"),
    "EVC-VF": ("not yet", "no virtual FIFO"), "EVC-VU": ("partial", "vendor events named in C9h"),
    "EVC-WEAR": ("met", "percentage used changes"),
    "SERRI": ("met", f"{U}/error_injection.rs `erri_1_one_event_at_a_time`"),
    "ERRI": ("met", f"{U}/error_injection.rs `erri_1_one_event_at_a_time`"),
    "ERRIE": ("met", f"{U}/error_injection.rs `erri_1_one_event_at_a_time`"),
    "ERRIEDP": ("partial", "NRTDP for the panic types"),
    "GERRI": ("met", f"{T}/ocp.rs `ocp_features_round_trip`"),
    "EVTREC": ("partial", "recovery types 1-3; type 4 events as persistent"),
    "EVTDEF": ("partial", f"types 1-16h ({U}/error_injection.rs), 17h, 19h and 1Ch-22h (T/ocp_versions.rs); 1Ah/1Bh refused"),
    "SDAEC": ("met", f"{T}/ocp_versions.rs `sdaec_14_error_reporting_aen_replaces_cfs`"),
    "GDAEC": ("met", f"{U}/features.rs `nvme_ad_31_c9_default_enabled_not_saveable`"),
    "DSSD-AEN": ("met", f"{T}/ocp_versions.rs `sdaec_14_error_reporting_aen_replaces_cfs`"),
    "SIDLE": ("partial", f"{U}/features.rs `sidle_14_mpcs_14_features_of_2_7`: stored, no idle mode"),
    "GIDLE": ("met", f"{U}/features.rs `sidle_14_mpcs_14_features_of_2_7`"),
    "MPCS": ("partial", f"{U}/features.rs `sidle_14_mpcs_14_features_of_2_7`: reported, QEMU's link registers unchanged"),
    "MPCSG": ("met", f"{U}/features.rs `sidle_14_mpcs_14_features_of_2_7`"),
    "SROWTM": ("met", f"{T}/ocp.rs `eol_failure_modes`"),
    "GROWTM": ("met", f"{T}/ocp.rs `eol_failure_modes`"), "ROWTM": ("met", f"{T}/ocp.rs `eol_failure_modes`"),
    "CPCIE": ("met", f"{U}/smart_ext.rs `clear_pcie_correctable_errors`"),
    "GPCIE": ("met", f"{T}/ocp.rs `ocp_features_round_trip`"),
    "SPLPI": ("met", f"{T}/ocp.rs `ocp_features_round_trip`"),
    "GPLPI": ("partial", "default 60 minutes"),
    "SLOG": ("partial", f"{T}/ocp.rs, {T}/ocp_versions.rs"),
    "STD-LOG": ("partial", "see docs/engine-support.md"),
    "UUID": ("met", f"{T}/ocp.rs `every_log_page_with_both_uuid_indexes_and_in_chunks`"),
    "GETF": ("met", f"{T}/ocp.rs `ocp_features_round_trip`"),
    "FDEF": ("met", f"{T}/admin.rs `feature_identifiers_effects_log`"),
    "GLP-ACC": ("met", f"{T}/ocp.rs `every_log_page_with_both_uuid_indexes_and_in_chunks`"),
    "SELFTST": ("partial", f"{T}/ocp_versions.rs `nvme_ad_12_self_test_follows_health_model`"),
    "FWUP": ("partial", f"{T}/admin.rs `firmware_download_and_commit`; images are not signed"),
    "UTIL": ("partial", ""),
    "EOL": ("partial", f"{T}/ocp_versions.rs `slog_12_eol_4_eol_5_read_only_only_at_spare_0`"),
    "NUSE": ("met", f"{T}/namespaces.rs `nuse_counts_written_blocks_until_deallocated`"),
    "NSM": ("met", f"{T}/namespaces.rs"),
    "SECTOR": ("partial", "512 and 4096-byte LBA formats"),
    "TRIM": ("partial", f"{T}/nvm.rs; deallocate reads zeroes"),
    "INCS": ("partial", "incomplete shutdowns counted; no recovery model"),
    "CRASH": ("partial", "panic telemetry (log 08h)"),
    "BOOT": ("partial", "no option ROM (BOOT-2 met)"),
    "CTO": ("partial", "command timeouts from TLER and injection"),
    "TTR": ("partial", "ready at once"),
    "TTHROTTLE": ("partial", "modelled throttling"),
    "PWR": ("partial", "three NVMe power states from max-power/min-power; power is modelled"),
    "TRPT": ("partial", ""), "RETC": ("partial", ""), "BKGND": ("partial", ""),
    "WRL": ("partial", ""), "NVMeR": ("met", f"{T}/registers.rs"),
    "NVMeR-1": ("met", f"{T}/nssr.rs `nvmer_1_subsystem_reset_resets_the_controller`"),
    "DP-CFG": ("partial", "configuration A/B features as implemented"),
    "E2E": ("not yet", "no end-to-end protection information"),
    "NVMe-AD": ("partial", "see docs/engine-support.md"),
    "NVMe-CFG": ("partial", "see docs/engine-support.md"),
    "NVMe-IO": ("partial", "see docs/engine-support.md"),
    "NVMe-OPT": ("partial", "see docs/engine-support.md"),
}
V = f"{T}/ocp_versions.rs"
OVERRIDE = {
    "NVMe-AD-1": ("met", f"{T}/admin.rs"),
    "NVMe-AD-2": ("met", f"{V} `nvme_ad_2_opt_7_opt_17_identify_hints`"),
    "NVMe-AD-3": ("met", f"{T}/namespaces.rs `namespace_management_statuses`"),
    "NVMe-AD-4": ("met", f"{T}/namespaces.rs `namespace_attachment_statuses`"),
    "NSM-1": ("met", f"{T}/namespaces.rs `nvme_ad_3_4_create_attach_io_detach_delete`"),
    "NSM-2": ("partial", "LBA format 0 is 512 bytes: with lba_size=4096 the factory format is 1"),
    "NSM-3": ("partial", "LBA format 0 is 512 bytes: with lba_size=4096 the factory format is 1"),
    "NSM-4": ("met", f"{T}/namespaces.rs `nsm_4_7_factory_drive_has_one_namespace_of_the_whole_capacity` (NN = 32)"),
    "NSM-5": ("partial", "NN = 32: enough up to 2 TiB of capacity"),
    "NSM-6": ("met", f"{T}/namespaces.rs (CNS 16h, 4 KiB)"),
    "NSM-7": ("met", f"{T}/namespaces.rs (TNVMCAP, UNVMCAP)"),
    "NSM-8": ("met", f"{T}/namespaces.rs (CTRATT bit 0 clear)"),
    "NVMe-AD-5": ("met", f"{T}/sanitize.rs `format_nvm_secure_erase_settings`"),
    "NVMe-AD-6": ("not yet", "in C5h"),
    "NVMe-AD-7": ("met", f"{T}/sanitize.rs `block_and_crypto_erase_deallocate_and_read_zeroes`, `overwrite_passes_pattern_and_inversion`"),
    "NVMe-AD-8": ("met", f"{T}/sanitize.rs `overwrite_passes_pattern_and_inversion` (no TCG)"),
    "NVMe-AD-10": ("met", f"{T}/ocp.rs `every_log_page_with_both_uuid_indexes_and_in_chunks`"),
    "NVMe-AD-11": ("met", f"{V} `nvme_ad_11_nsid_on_commands_that_do_not_use_it`"),
    "NVMe-AD-12": ("met", f"{V} `nvme_ad_12_self_test_follows_health_model`"),
    "NVMe-AD-14": ("met", f"{T}/lockdown.rs `oacs_and_supported_logs_advertise_lockdown`"),
    "NVMe-AD-15": ("met", f"{T}/lockdown.rs `lockdown_can_prohibit_itself`, `supported_lists_name_every_command_and_feature`"),
    "NVMe-AD-16": ("met", f"{T}/lockdown.rs `prohibit_a_set_feature_only`"),
    "NVMe-AD-17": ("met", f"{T}/sanitize.rs `identify_reports_sanicap_and_fna`"),
    "NVMe-AD-18": ("met", f"{T}/sanitize.rs `identify_reports_sanicap_and_fna`"),
    "NVMe-AD-19": ("met", "data is always readable after a sanitize: no forced deallocation"),
    "NVMe-AD-21": ("partial", "the emulated erase is a write of zeroes to the backing image"),
    "NVMe-AD-22": ("met", f"{T}/sanitize.rs `factory_state_never_sanitized_global_data_erased`"),
    "NVMe-AD-26": ("not yet", "no media verification; in C5h"),
    "NVMe-AD-29": ("met", f"{T}/sanitize.rs `overwrite_passes_pattern_and_inversion`"),
    "STD-LOG-9": ("met", f"{T}/persistent_event_log.rs `identify_reports_pel_support_and_size`"),
    "STD-LOG-10": ("partial", f"{T}/persistent_event_log.rs `events_of_the_drive`; hardware errors are not emulated, no TCG events"),
    "STD-LOG-14": ("met", f"{T}/lockdown.rs `prohibit_and_allow_an_admin_command`"),
    "STD-LOG-20": ("met", f"{T}/persistent_event_log.rs `snapshot_keeps_new_events_for_the_next_context`"),
    "STD-LOG-21": ("met", f"{T}/persistent_event_log.rs `snapshot_keeps_new_events_for_the_next_context`"),
    "STD-LOG-22": ("partial", f"{T}/persistent_event_log.rs `identify_reports_pel_support_and_size`; only the newest 160 KiB of events survive a power cycle (state store copy of 256 KiB)"),
    "STD-LOG-26": ("met", f"{T}/sanitize.rs `commands_restricted_while_sanitize_runs`"),
    "NVMe-AD-24": ("met", "AERL from the aerl property (default 3: 4 outstanding)"),
    "NVMe-AD-30": ("met", f"{T}/admin.rs"),
    "NVMe-AD-31": ("met", f"{V} `nvme_ad_31_feature_set_per_version`"),
    "NVMe-AD-32": ("met", f"{U}/features.rs `nvme_ad_31_c9_default_enabled_not_saveable`"),
    "NVMe-CFG-1": ("met", f"{T}/arbitration.rs `weighted_round_robin_with_urgent_class`"),
    "NVMe-CFG-2": ("met", "MDTS property (default 512 KiB)"),
    "NVMe-CFG-3": ("met", f"{T}/reliability.rs"),
    "NVMe-CFG-5": ("met", "mqes default 2047 (device), 1023 (engine)"),
    "NVMe-CFG-6": ("met", f"{V} `nvme_cfg_6_1023_io_queue_pairs`"),
    "NVMe-CFG-9": ("met", f"{T}/registers.rs"), "NVMe-CFG-10": ("met", f"{T}/registers.rs"),
    "NVMe-CFG-14": ("met", "SQES 66h"), "NVMe-CFG-15": ("met", "CQES 44h"),
    "NVMe-CFG-16": ("met", f"{T}/registers.rs"),
    "NVMe-CFG-17": ("not yet", "MPSMAX is 4 KiB"),
    "NVMe-CFG-18": ("met", f"{V} `nvme_cfg_18_256_error_log_entries`"),
    "NVMe-CFG-19": ("met", "no Host Memory Buffer"),
    "NVMe-CFG-21": ("not yet", "in C5h"),
    "NVMe-CFG-22": ("met", f"{E}/src/testing/stress.rs"), "NVMe-CFG-23": ("met", f"{E}/src/testing/stress.rs"),
    "NVMe-IO-2": ("met", f"{T}/nvm.rs"),
    "NVMe-IO-9": ("met", f"{T}/fused.rs `pair_is_atomic_with_respect_to_other_io`"),
    "NVMe-OPT-2": ("met", f"{T}/admin.rs `each_feature_values`"),
    "NVMe-OPT-4": ("met", f"{V} `nvme_opt_4_timestamp_survives_resets_and_flr`, {T}/nssr.rs `nvme_opt_4_subsystem_reset_clears_the_timestamp`"),
    "NVMe-OPT-5": ("met", "Synch never set"),
    "NVMe-OPT-7": ("met", f"{V} `nvme_ad_2_opt_7_opt_17_identify_hints`"),
    "NVMe-OPT-8": ("met", "LPA bit 3"), "NVMe-OPT-10": ("met", "OAES bit 9"),
    "NVMe-OPT-13": ("met", f"{T}/admin.rs `features_select_and_save`"),
    "NVMe-OPT-16": ("met", f"{T}/copy.rs `copy_limits_and_statuses`"),
    "STD-LOG-11": ("met", f"{T}/logs.rs `std_log_11_lba_status_information`"),
    "STD-LOG-17": ("met", f"{T}/logs.rs `std_log_17_endurance_group_information`"),
    "NVMe-OPT-17": ("met", f"{V} `nvme_ad_2_opt_7_opt_17_identify_hints`"),
    "NVMe-OPT-18": ("not yet", "in C5h"), "NVMe-OPT-19": ("not yet", "in C5h"),
    "NVMe-OPT-21": ("met", "no Power Limit feature"),
    "SLOG-2": ("met", "saturating arithmetic throughout"), "SLOG-3": ("met", "wire::LeWriter"),
    "SLOG-6": ("met", f"{V} `slog_6_reading_logs_changes_nothing`"),
    "SLOG-7": ("met", "1 s background tick"),
    "SLOG-12": ("met", f"{V} `slog_12_eol_4_eol_5_read_only_only_at_spare_0`"),
    "SLOG-13": ("met", f"{V} `slog_13_14_lifetime_energy_and_interval_power`"),
    "SLOG-14": ("met", f"{V} `slog_13_14_lifetime_energy_and_interval_power`"),
    "SMART-27": ("met", f"{U}/smart_ext.rs `smart_27_version6_fields`"),
    "SMART-30": ("met", f"{U}/smart_ext.rs `smart_27_version6_fields` (0: no proactive retirement)"),
    "SMART-40": ("partial", "0: no physical form factor"),
    "SMART-42": ("met", f"{V} `smart_42_command_timeouts_per_tler`"),
    "SMART-47": ("met", f"{U}/smart_ext.rs `smart_47_48_units`"),
    "SMART-48": ("met", f"{U}/smart_ext.rs `smart_47_48_units`"),
    "SMART-52": ("met", f"{U}/smart_ext.rs `smart_27_version6_fields`"),
    "EOL-2": ("not yet", "no short stroke"),
    "EOL-4": ("met", f"{V} `slog_12_eol_4_eol_5_read_only_only_at_spare_0`"),
    "EOL-5": ("met", f"{V} `slog_12_eol_4_eol_5_read_only_only_at_spare_0`"),
    "FWUP-29": ("met", f"{T}/admin.rs `firmware_download_and_commit`"),
    "DCLP-8": ("met", f"{V} `dclp_9_dssd_power_state_drives_nvme_power_state`"),
    "DCLP-9": ("met", f"{V} `dclp_9_dssd_power_state_drives_nvme_power_state`"),
    "LMDATA-38": ("met", f"{U}/latency.rs `lmdata_35_38_version_and_size_per_ocp_version`"),
    "EVTDEF-24": ("met", f"{V} `evtdef_24_sanitize_command_failure`"),
    "EVTDEF-26": ("met", f"{V} `evtdef_26_format_uses_user_data_erase` (User Data Erase is never replaced)"),
    "EVTDEF-29": ("met", f"{V} `evtdef_29_clear_persistent_event_log_until_exit`"),
    "EVTDEF-30": ("met", f"{V} `evtdef_30_sanitize_operation_failure`"),
    "ERRI-5": ("met", f"{V} `erri_5_event_types_per_version`"),
    "ERRI-8": ("met", f"{V} `evtdef_31_random_latency_spikes_until_exit`, `evtdef_34_35_spare_and_backup_conditions`"),
    "EVTDEF-1": ("met", f"{V} `erri_5_event_types_per_version`"),
    "EVTDEF-25": ("met", f"{V} `erri_5_event_types_per_version` (reserved 18h refused)"),
    "EVTDEF-27": ("not yet", "type 1Ah refused: no PCIe AER status registers"),
    "EVTDEF-28": ("not yet", "type 1Bh refused: no PCIe AER status registers"),
    "EVTDEF-31": ("met", f"{V} `evtdef_31_random_latency_spikes_until_exit`"),
    "EVTDEF-32": ("met", f"{V} `evtdef_32_factory_defaults`"),
    "EVTDEF-33": ("met", f"{V} `evtdef_33_supply_voltage_drop_counts_plp_start`"),
    "EVTDEF-34": ("met", f"{V} `evtdef_34_35_spare_and_backup_conditions`"),
    "EVTDEF-35": ("met", f"{V} `evtdef_34_35_spare_and_backup_conditions`"),
    "EVTDEF-36": ("met", f"{V} `erri_5_event_types_per_version`"),
    "EVTREC-3": ("met", f"{V} `evtdef_31_random_latency_spikes_until_exit`"),
    "BOOT-2": ("met", "no option ROM"),
}
for n in range(25, 37):
    OVERRIDE.setdefault(f"EVTDEF-{n}", ("not yet", "type refused (ERRI-5)"))


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    end = text.find("19 Revision History")
    body = text[:end] if end > 0 else text
    lines = body.split("\n")
    found = {}
    rx = re.compile(r"(?<![A-Za-z0-9-])((?:[A-Z][A-Za-z0-9]*-)+[0-9]+)(?![0-9])")
    for i, l in enumerate(lines):
        for m in rx.finditer(l):
            rid = m.group(1)
            if rid in found:
                continue
            near = " ".join(lines[i:i + 2])
            found[rid] = "Obsolete" in near and rid in near.split("Obsolete")[0] + rid
    prefix = lambda r: r.rsplit("-", 1)[0]
    num = lambda r: int(r.rsplit("-", 1)[1])
    out = []
    w = out.append
    w("# OCP 2.7 conformance of ocp-nvme")
    w("")
    w("Every requirement ID of the OCP Datacenter NVMe SSD Specification 2.7")
    w("(2026-01-08) that applies to an emulated drive, with its status for a drive")
    w("with `ocp-version=2.7` (the default) and the test that shows it. Generated by")
    w("`scripts/ocp/conformance.py` from the IDs of the specification text; the")
    w("statuses are this project's assessment.")
    w("")
    w("- **met**: implemented as the requirement says, shown by the test named;")
    w("- **partial**: implemented in part (the note says what is missing);")
    w("- **not yet**: not implemented (those a host may query are in log C5h);")
    w("- **obsolete**: the specification marks the ID obsolete.")
    w("")
    w("Tests: `T/` is `hw-ocp-nvme/engine/tests/`, `U/` is")
    w("`hw-ocp-nvme/engine/src/ocp/`; the guest tests (`tests/guest/tests/50-ocp.sh`)")
    w("check the same pages with nvme-cli.")
    w("")
    w("## Not applicable to an emulated drive")
    w("")
    w("| group | what | IDs |")
    w("|---|---|---|")
    groups = {}
    for r in found:
        groups.setdefault(prefix(r), []).append(r)
    for p in sorted(groups):
        if p in PHYSICAL and PHYSICAL[p]:
            ids = sorted(groups[p], key=num)
            w(f"| {p} | {PHYSICAL[p]} | {p}-{num(ids[0])} to {p}-{num(ids[-1])} |")
    w("")
    w("## Not yet implemented as a whole")
    w("")
    w("| group | IDs |")
    w("|---|---|")
    for p in sorted(groups):
        if p in NOT_YET_GROUPS:
            ids = sorted(groups[p], key=num)
            w(f"| {p} | {p}-{num(ids[0])} to {p}-{num(ids[-1])} (not yet) |")
    w("")
    w("## Requirements")
    w("")
    w("| ID | status | test / note |")
    w("|---|---|---|")
    counts = {}
    for p in sorted(groups):
        if p in PHYSICAL or p in NOT_YET_GROUPS:
            continue
        for r in sorted(groups[p], key=num):
            if found[r]:
                st, note = "obsolete", ""
            elif r in OVERRIDE:
                st, note = OVERRIDE[r]
            elif p in GROUP:
                st, note = GROUP[p]
            else:
                st, note = "partial", "not assessed in detail"
            counts[st] = counts.get(st, 0) + 1
            note = note.replace(T + "/", "T/").replace(U + "/", "U/")
            w(f"| {r} | {st} | {note} |")
    w("")
    w("Totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".")
    print("\n".join(out))


main()
