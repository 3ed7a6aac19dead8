# t/crypt: tests of src/crypt: the CCTV age vectors, unit tests, interop
# with the stock age tool (t/crypt/interop.t drives t/crypt/agetool), the
# libFuzzer targets (--enable-fuzzing) and the benchmark (make bench).
check_PROGRAMS += t/crypt/age-test t/crypt/age-vectors-test t/crypt/agetool t/crypt/chacha-bench
t_crypt_age_test_LDADD = $(TAP_LIBS)
t_crypt_age_vectors_test_LDADD = $(TAP_LIBS)
t_crypt_agetool_LDADD = $(MSGW_LIBS)
t_crypt_chacha_bench_LDADD = $(MSGW_LIBS)
TESTS += t/crypt/age-test t/crypt/age-vectors-test t/crypt/interop.t
EXTRA_DIST += t/crypt/interop.t t/crypt/bench.sh t/crypt/fuzz.t t/crypt/vectors.sh
MSGW_BENCH += t/crypt/bench.sh

if FUZZING
check_PROGRAMS += t/crypt/fuzz-header t/crypt/fuzz-decrypt
t_crypt_fuzz_header_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
t_crypt_fuzz_decrypt_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/crypt/fuzz.t

# The vectors, listed for make dist (automake takes no wildcard). After
# updating t/crypt/vectors, regenerate this list: sh t/crypt/vectors.sh
EXTRA_DIST += t/crypt/vectors/README.md t/crypt/vectors/SOURCE \
	t/crypt/vectors/testdata/armor_crlf \
	t/crypt/vectors/testdata/armor_empty \
	t/crypt/vectors/testdata/armor_empty_last_line \
	t/crypt/vectors/testdata/armor_empty_line_begin \
	t/crypt/vectors/testdata/armor_empty_line_end \
	t/crypt/vectors/testdata/armor_eol_between_padding \
	t/crypt/vectors/testdata/armor_full_last_line \
	t/crypt/vectors/testdata/armor_garbage_encoded \
	t/crypt/vectors/testdata/armor_garbage_leading \
	t/crypt/vectors/testdata/armor_garbage_trailing \
	t/crypt/vectors/testdata/armor_header_crlf \
	t/crypt/vectors/testdata/armor_headers \
	t/crypt/vectors/testdata/armor_hybrid \
	t/crypt/vectors/testdata/armor_invalid_character_header \
	t/crypt/vectors/testdata/armor_invalid_character_payload \
	t/crypt/vectors/testdata/armor_long_line \
	t/crypt/vectors/testdata/armor_lowercase \
	t/crypt/vectors/testdata/armor_no_end_line \
	t/crypt/vectors/testdata/armor_no_eol \
	t/crypt/vectors/testdata/armor_no_match \
	t/crypt/vectors/testdata/armor_no_padding \
	t/crypt/vectors/testdata/armor_not_canonical \
	t/crypt/vectors/testdata/armor_pgp_checksum \
	t/crypt/vectors/testdata/armor_scrypt \
	t/crypt/vectors/testdata/armor_short_line \
	t/crypt/vectors/testdata/armor_whitespace_begin \
	t/crypt/vectors/testdata/armor_whitespace_end \
	t/crypt/vectors/testdata/armor_whitespace_eol \
	t/crypt/vectors/testdata/armor_whitespace_last_line \
	t/crypt/vectors/testdata/armor_whitespace_line_start \
	t/crypt/vectors/testdata/armor_whitespace_outside \
	t/crypt/vectors/testdata/armor_wrong_type \
	t/crypt/vectors/testdata/armor_x25519 \
	t/crypt/vectors/testdata/empty \
	t/crypt/vectors/testdata/header_crlf \
	t/crypt/vectors/testdata/hmac_bad \
	t/crypt/vectors/testdata/hmac_extra_space \
	t/crypt/vectors/testdata/hmac_garbage \
	t/crypt/vectors/testdata/hmac_missing \
	t/crypt/vectors/testdata/hmac_no_space \
	t/crypt/vectors/testdata/hmac_not_canonical \
	t/crypt/vectors/testdata/hmac_trailing_space \
	t/crypt/vectors/testdata/hmac_truncated \
	t/crypt/vectors/testdata/hybrid \
	t/crypt/vectors/testdata/hybrid_and_x25519 \
	t/crypt/vectors/testdata/hybrid_bad_tag \
	t/crypt/vectors/testdata/hybrid_currupted_enc_mlkem \
	t/crypt/vectors/testdata/hybrid_currupted_enc_x25519 \
	t/crypt/vectors/testdata/hybrid_extra_argument \
	t/crypt/vectors/testdata/hybrid_grease \
	t/crypt/vectors/testdata/hybrid_identity \
	t/crypt/vectors/testdata/hybrid_long_file_key \
	t/crypt/vectors/testdata/hybrid_long_share \
	t/crypt/vectors/testdata/hybrid_low_order \
	t/crypt/vectors/testdata/hybrid_multiple_recipients \
	t/crypt/vectors/testdata/hybrid_no_match \
	t/crypt/vectors/testdata/hybrid_not_canonical_body \
	t/crypt/vectors/testdata/hybrid_not_canonical_enc \
	t/crypt/vectors/testdata/hybrid_short_share \
	t/crypt/vectors/testdata/hybrid_uppercase \
	t/crypt/vectors/testdata/hybrid_x25519_arg \
	t/crypt/vectors/testdata/scrypt \
	t/crypt/vectors/testdata/scrypt_and_x25519 \
	t/crypt/vectors/testdata/scrypt_bad_tag \
	t/crypt/vectors/testdata/scrypt_double \
	t/crypt/vectors/testdata/scrypt_extra_argument \
	t/crypt/vectors/testdata/scrypt_long_file_key \
	t/crypt/vectors/testdata/scrypt_no_match \
	t/crypt/vectors/testdata/scrypt_not_canonical_body \
	t/crypt/vectors/testdata/scrypt_not_canonical_salt \
	t/crypt/vectors/testdata/scrypt_salt_long \
	t/crypt/vectors/testdata/scrypt_salt_missing \
	t/crypt/vectors/testdata/scrypt_salt_short \
	t/crypt/vectors/testdata/scrypt_uppercase \
	t/crypt/vectors/testdata/scrypt_work_factor_23 \
	t/crypt/vectors/testdata/scrypt_work_factor_hex \
	t/crypt/vectors/testdata/scrypt_work_factor_leading_garbage \
	t/crypt/vectors/testdata/scrypt_work_factor_leading_plus \
	t/crypt/vectors/testdata/scrypt_work_factor_leading_zero_decimal \
	t/crypt/vectors/testdata/scrypt_work_factor_leading_zero_octal \
	t/crypt/vectors/testdata/scrypt_work_factor_missing \
	t/crypt/vectors/testdata/scrypt_work_factor_negative \
	t/crypt/vectors/testdata/scrypt_work_factor_overflow \
	t/crypt/vectors/testdata/scrypt_work_factor_trailing_garbage \
	t/crypt/vectors/testdata/scrypt_work_factor_wrong \
	t/crypt/vectors/testdata/scrypt_work_factor_zero \
	t/crypt/vectors/testdata/stanza_bad_start \
	t/crypt/vectors/testdata/stanza_base64_padding \
	t/crypt/vectors/testdata/stanza_empty_argument \
	t/crypt/vectors/testdata/stanza_empty_body \
	t/crypt/vectors/testdata/stanza_empty_last_line \
	t/crypt/vectors/testdata/stanza_invalid_character \
	t/crypt/vectors/testdata/stanza_long_line \
	t/crypt/vectors/testdata/stanza_missing_body \
	t/crypt/vectors/testdata/stanza_missing_final_line \
	t/crypt/vectors/testdata/stanza_multiple_short_lines \
	t/crypt/vectors/testdata/stanza_no_arguments \
	t/crypt/vectors/testdata/stanza_not_canonical \
	t/crypt/vectors/testdata/stanza_spurious_cr \
	t/crypt/vectors/testdata/stanza_valid_characters \
	t/crypt/vectors/testdata/stream_257_chunks \
	t/crypt/vectors/testdata/stream_257_chunks_full \
	t/crypt/vectors/testdata/stream_258_chunks \
	t/crypt/vectors/testdata/stream_bad_tag \
	t/crypt/vectors/testdata/stream_bad_tag_second_chunk \
	t/crypt/vectors/testdata/stream_bad_tag_second_chunk_full \
	t/crypt/vectors/testdata/stream_empty_payload \
	t/crypt/vectors/testdata/stream_last_chunk_empty \
	t/crypt/vectors/testdata/stream_last_chunk_full \
	t/crypt/vectors/testdata/stream_last_chunk_full_second \
	t/crypt/vectors/testdata/stream_missing_tag \
	t/crypt/vectors/testdata/stream_no_chunks \
	t/crypt/vectors/testdata/stream_no_final \
	t/crypt/vectors/testdata/stream_no_final_full \
	t/crypt/vectors/testdata/stream_no_final_two_chunks \
	t/crypt/vectors/testdata/stream_no_final_two_chunks_full \
	t/crypt/vectors/testdata/stream_no_nonce \
	t/crypt/vectors/testdata/stream_short_chunk \
	t/crypt/vectors/testdata/stream_short_nonce \
	t/crypt/vectors/testdata/stream_short_second_chunk \
	t/crypt/vectors/testdata/stream_three_chunks \
	t/crypt/vectors/testdata/stream_trailing_garbage_long \
	t/crypt/vectors/testdata/stream_trailing_garbage_short \
	t/crypt/vectors/testdata/stream_two_chunks \
	t/crypt/vectors/testdata/stream_two_final_chunks \
	t/crypt/vectors/testdata/stream_two_final_chunks_full \
	t/crypt/vectors/testdata/stream_two_final_chunks_second \
	t/crypt/vectors/testdata/stream_two_final_chunks_short \
	t/crypt/vectors/testdata/version_unsupported \
	t/crypt/vectors/testdata/x25519 \
	t/crypt/vectors/testdata/x25519_bad_tag \
	t/crypt/vectors/testdata/x25519_extra_argument \
	t/crypt/vectors/testdata/x25519_grease \
	t/crypt/vectors/testdata/x25519_identity \
	t/crypt/vectors/testdata/x25519_long_file_key \
	t/crypt/vectors/testdata/x25519_long_share \
	t/crypt/vectors/testdata/x25519_low_order \
	t/crypt/vectors/testdata/x25519_lowercase \
	t/crypt/vectors/testdata/x25519_multiple_recipients \
	t/crypt/vectors/testdata/x25519_no_match \
	t/crypt/vectors/testdata/x25519_not_canonical_body \
	t/crypt/vectors/testdata/x25519_not_canonical_share \
	t/crypt/vectors/testdata/x25519_short_share
