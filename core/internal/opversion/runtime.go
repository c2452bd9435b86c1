package opversion

import fb "litequant/core/schema/tflitefb"

// MinRuntime returns the lowest TensorFlow Lite runtime version that
// registers version v of builtin operator op, or "" when the table does not
// know the pair (such operators do not count towards a model's
// min_runtime_version, as in TensorFlow's converter).
func MinRuntime(op fb.BuiltinOperator, v int32) string {
	versions := runtimeVersions[op]
	if v < 1 || int(v) > len(versions) {
		return ""
	}
	return versions[v-1]
}

// runtimeVersions[op][v-1] is the first runtime registering version v of
// op, from TensorFlow Lite's tools/versioning/runtime_version.cc, for the
// operators litequant meets ("" for a version that never existed).
var runtimeVersions = map[fb.BuiltinOperator][]string{
	fb.BuiltinOperatorABS:                          {"1.13.0", "2.4.0", "2.5.0", "2.6.0", "2.12.0"},
	fb.BuiltinOperatorADD:                          {"1.5.0", "1.14.0", "2.4.0", "2.6.0", "2.13.0"},
	fb.BuiltinOperatorADD_N:                        {"1.14.0"},
	fb.BuiltinOperatorARG_MAX:                      {"1.9.0", "1.14.0", "2.9.0"},
	fb.BuiltinOperatorARG_MIN:                      {"1.9.0", "1.14.0", "2.9.0"},
	fb.BuiltinOperatorAVERAGE_POOL_2D:              {"1.5.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorBATCH_MATMUL:                 {"2.3.0", "2.3.0", "2.4.0", "2.5.0"},
	fb.BuiltinOperatorBATCH_TO_SPACE_ND:            {"1.6.0", "1.14.0", "2.3.0", "2.12.0"},
	fb.BuiltinOperatorBIDIRECTIONAL_SEQUENCE_LSTM:  {"1.14.0", "1.14.0", "1.14.0"},
	fb.BuiltinOperatorBIDIRECTIONAL_SEQUENCE_RNN:   {"1.14.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorBROADCAST_TO:                 {"", "2.5.0", "2.5.0"},
	fb.BuiltinOperatorCALL_ONCE:                    {"2.5.0"},
	fb.BuiltinOperatorCAST:                         {"1.5.0", "2.7.0", "2.8.0", "2.9.0", "2.12.0", "2.15.0", "2.17.0"},
	fb.BuiltinOperatorCEIL:                         {"1.14.0"},
	fb.BuiltinOperatorCONCATENATION:                {"1.5.0", "1.14.0", "2.3.0", "2.14.0"},
	fb.BuiltinOperatorCONV_2D:                      {"1.5.0", "1.14.0", "1.14.0", "2.3.0", "2.4.0", "2.9.0", "2.11.0", "2.15.0"},
	fb.BuiltinOperatorCOS:                          {"1.14.0"},
	fb.BuiltinOperatorCUMSUM:                       {"2.4.0"},
	fb.BuiltinOperatorDENSIFY:                      {"2.2.0"},
	fb.BuiltinOperatorDEPTH_TO_SPACE:               {"2.1.0", "2.5.0"},
	fb.BuiltinOperatorDEPTHWISE_CONV_2D:            {"1.5.0", "1.12.0", "1.14.0", "2.2.0", "2.3.0", "2.3.0", "2.11.0"},
	fb.BuiltinOperatorDEQUANTIZE:                   {"1.13.1", "1.14.0", "1.15.0", "2.2.0", "2.7.0", "2.18.0"},
	fb.BuiltinOperatorDIV:                          {"1.6.0", "2.3.0"},
	fb.BuiltinOperatorELU:                          {"1.14.0"},
	fb.BuiltinOperatorEMBEDDING_LOOKUP:             {"1.13.0", "1.14.0", "1.14.0", "2.18.0"},
	fb.BuiltinOperatorEQUAL:                        {"1.14.0", "1.14.0", "2.3.0", "2.13.0"},
	fb.BuiltinOperatorEXP:                          {"1.7.0", "2.12.0"},
	fb.BuiltinOperatorEXPAND_DIMS:                  {"1.10.0"},
	fb.BuiltinOperatorFILL:                         {"1.13.0", "2.3.0", "2.5.0", "2.12.0"},
	fb.BuiltinOperatorFLOOR:                        {"1.9.0"},
	fb.BuiltinOperatorFLOOR_DIV:                    {"1.14.0", "1.14.0", "2.13.0"},
	fb.BuiltinOperatorFLOOR_MOD:                    {"1.13.0", "2.13.0"},
	fb.BuiltinOperatorFULLY_CONNECTED:              {"1.5.0", "1.10.0", "1.14.0", "1.14.0", "2.0.0", "2.1.0", "2.3.0", "2.3.0", "2.3.0", "2.11.0", "2.15.0", "2.17.0", "2.18.0"},
	fb.BuiltinOperatorGATHER:                       {"1.6.0", "1.14.0", "1.15.0", "2.4.0", "2.5.0", "2.13.0", "2.15.0"},
	fb.BuiltinOperatorGATHER_ND:                    {"1.14.0", "2.3.0", "2.5.0", "2.13.0", "2.16.0"},
	fb.BuiltinOperatorGELU:                         {"2.9.0", "2.9.0"},
	fb.BuiltinOperatorGREATER:                      {"1.14.0", "1.14.0"},
	fb.BuiltinOperatorGREATER_EQUAL:                {"1.14.0", "1.14.0", "2.13.0"},
	fb.BuiltinOperatorHARD_SWISH:                   {"1.15.0"},
	fb.BuiltinOperatorIF:                           {"1.15.0"},
	fb.BuiltinOperatorL2_NORMALIZATION:             {"1.5.0", "1.14.0"},
	fb.BuiltinOperatorL2_POOL_2D:                   {"1.5.0"},
	fb.BuiltinOperatorLEAKY_RELU:                   {"1.13.1", "2.3.0"},
	fb.BuiltinOperatorLESS:                         {"1.14.0", "1.14.0", "2.13.0"},
	fb.BuiltinOperatorLESS_EQUAL:                   {"1.14.0", "1.14.0"},
	fb.BuiltinOperatorLOCAL_RESPONSE_NORMALIZATION: {"1.5.0"},
	fb.BuiltinOperatorLOG:                          {"1.14.0", "2.15.0"},
	fb.BuiltinOperatorLOG_SOFTMAX:                  {"1.14.0", "1.14.0"},
	fb.BuiltinOperatorLOGICAL_AND:                  {"1.11.0"},
	fb.BuiltinOperatorLOGICAL_NOT:                  {"1.11.0"},
	fb.BuiltinOperatorLOGICAL_OR:                   {"1.11.0"},
	fb.BuiltinOperatorLOGISTIC:                     {"1.14.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorLSTM:                         {"1.7.0", "1.10.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorMAX_POOL_2D:                  {"1.5.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorMAXIMUM:                      {"1.14.0", "1.14.0", "2.3.0", "2.3.0"},
	fb.BuiltinOperatorMEAN:                         {"1.6.0", "1.14.0", "2.4.0"},
	fb.BuiltinOperatorMINIMUM:                      {"1.14.0", "1.14.0", "2.3.0", "2.3.0"},
	fb.BuiltinOperatorMIRROR_PAD:                   {"1.13.1", "2.3.0", "2.12.0"},
	fb.BuiltinOperatorMUL:                          {"1.5.0", "1.14.0", "1.15.0", "2.3.0", "2.6.0", "2.11.0", "2.13.0"},
	fb.BuiltinOperatorNEG:                          {"1.9.0"},
	fb.BuiltinOperatorNOT_EQUAL:                    {"1.14.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorONE_HOT:                      {"1.11.0"},
	fb.BuiltinOperatorPACK:                         {"1.11.0", "1.14.0", "2.3.0", "2.13.0"},
	fb.BuiltinOperatorPAD:                          {"1.5.0", "1.14.0", "2.4.0", "2.6.0"},
	fb.BuiltinOperatorPADV2:                        {"1.9.0", "1.14.0", "2.4.0", "2.6.0"},
	fb.BuiltinOperatorPOW:                          {"1.10.0"},
	fb.BuiltinOperatorPRELU:                        {"1.8.0"},
	fb.BuiltinOperatorQUANTIZE:                     {"1.14.0", "1.15.0", "2.7.0"},
	fb.BuiltinOperatorRANGE:                        {"1.13.0", "2.14.0"},
	fb.BuiltinOperatorREDUCE_ANY:                   {"1.11.0"},
	fb.BuiltinOperatorREDUCE_MAX:                   {"1.11.0", "1.14.0", "2.5.0"},
	fb.BuiltinOperatorREDUCE_MIN:                   {"1.11.0", "1.14.0", "2.5.0"},
	fb.BuiltinOperatorREDUCE_PROD:                  {"1.11.0", "2.6.0"},
	fb.BuiltinOperatorRELU:                         {"1.5.0", "2.1.0", "2.5.0"},
	fb.BuiltinOperatorRELU6:                        {"1.5.0", "1.14.0", "2.5.0"},
	fb.BuiltinOperatorRELU_N1_TO_1:                 {"1.5.0"},
	fb.BuiltinOperatorRESHAPE:                      {"1.5.0"},
	fb.BuiltinOperatorRESIZE_BILINEAR:              {"1.7.0", "1.14.0", "2.2.0", "2.5.0"},
	fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR:      {"1.13.1", "1.14.0", "2.3.0", "2.4.0"},
	fb.BuiltinOperatorREVERSE_V2:                   {"1.14.0", "2.2.0", "2.5.0"},
	fb.BuiltinOperatorRNN:                          {"1.5.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorROUND:                        {"1.14.0"},
	fb.BuiltinOperatorRSQRT:                        {"1.10.0", "2.5.0", "2.15.0"},
	fb.BuiltinOperatorSELECT:                       {"1.14.0", "1.14.0", "2.12.0", "2.12.0"},
	fb.BuiltinOperatorSELECT_V2:                    {"2.2.0", "2.12.0"},
	fb.BuiltinOperatorSHAPE:                        {"1.10.0"},
	fb.BuiltinOperatorSIN:                          {"1.9.0"},
	fb.BuiltinOperatorSLICE:                        {"1.14.0", "1.14.0", "1.14.0", "2.4.0", "2.5.0", "2.14.0"},
	fb.BuiltinOperatorSOFTMAX:                      {"1.5.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorSPACE_TO_BATCH_ND:            {"1.6.0", "1.14.0", "2.3.0", "2.12.0"},
	fb.BuiltinOperatorSPACE_TO_DEPTH:               {"1.5.0", "1.14.0"},
	fb.BuiltinOperatorSPLIT:                        {"1.5.0", "1.14.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorSPLIT_V:                      {"1.13.1", "2.3.0"},
	fb.BuiltinOperatorSQRT:                         {"1.10.0"},
	fb.BuiltinOperatorSQUARE:                       {"1.12.0"},
	fb.BuiltinOperatorSQUARED_DIFFERENCE:           {"1.13.1", "2.5.0"},
	fb.BuiltinOperatorSQUEEZE:                      {"1.6.0", "2.5.0"},
	fb.BuiltinOperatorSTRIDED_SLICE:                {"1.6.0", "1.14.0", "2.1.0", "2.2.0", "2.5.0", "2.6.0", "2.14.0", "2.14.0"},
	fb.BuiltinOperatorSUB:                          {"1.6.0", "1.14.0", "2.3.0", "2.4.0", "2.4.0"},
	fb.BuiltinOperatorSUM:                          {"1.10.0", "1.15.0"},
	fb.BuiltinOperatorSVDF:                         {"1.5.0", "1.14.0", "2.2.0", "2.3.0"},
	fb.BuiltinOperatorTANH:                         {"1.14.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorTILE:                         {"1.10.1", "2.2.0", "2.8.0"},
	fb.BuiltinOperatorTOPK_V2:                      {"1.7.0", "1.14.0", "2.13.0"},
	fb.BuiltinOperatorTRANSPOSE:                    {"1.6.0", "1.14.0", "1.15.0", "2.3.0", "2.4.0", "2.12.0"},
	fb.BuiltinOperatorTRANSPOSE_CONV:               {"1.9.0", "2.2.0", "2.3.0", "2.13.0", "2.15.0"},
	fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM: {"1.13.1", "1.14.0", "2.3.0", "2.12.0"},
	fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_RNN:  {"1.14.0", "1.14.0", "2.3.0"},
	fb.BuiltinOperatorUNPACK:                       {"1.11.0", "1.14.0", "2.2.0", "2.3.0"},
	fb.BuiltinOperatorWHERE:                        {"1.14.0", "2.8.0"},
	fb.BuiltinOperatorWHILE:                        {"1.15.0"},
	fb.BuiltinOperatorZEROS_LIKE:                   {"1.12.0"},
}

// PinnedRuntime is the runtime litequant's tests run every model in: the
// WebAssembly TensorFlow Lite of @tensorflow/tfjs-tflite 0.0.1-alpha.10
// (scripts/package.json), whose registrations match TensorFlow Lite 2.9.
const PinnedRuntime = "tfjs-tflite 0.0.1-alpha.10"

// pinnedMax is the highest version of each builtin operator the pinned
// runtime registers, measured by loading one-operator models of every
// version into it (an unregistered version fails with "Didn't find op for
// builtin opcode"). Operators not listed were not measured; BROADCAST_TO
// is not registered at all.
var pinnedMax = map[fb.BuiltinOperator]int32{
	fb.BuiltinOperatorABS: 4, fb.BuiltinOperatorADD: 4, fb.BuiltinOperatorARG_MAX: 3, fb.BuiltinOperatorARG_MIN: 3,
	fb.BuiltinOperatorAVERAGE_POOL_2D: 3, fb.BuiltinOperatorBATCH_MATMUL: 4, fb.BuiltinOperatorBATCH_TO_SPACE_ND: 3,
	fb.BuiltinOperatorBROADCAST_TO: 0, fb.BuiltinOperatorCAST: 4, fb.BuiltinOperatorCONCATENATION: 3,
	fb.BuiltinOperatorCONV_2D: 6, fb.BuiltinOperatorCOS: 1, fb.BuiltinOperatorCUMSUM: 1,
	fb.BuiltinOperatorDEPTH_TO_SPACE: 2, fb.BuiltinOperatorDEPTHWISE_CONV_2D: 6, fb.BuiltinOperatorDEQUANTIZE: 5,
	fb.BuiltinOperatorDIV: 2, fb.BuiltinOperatorELU: 1, fb.BuiltinOperatorEMBEDDING_LOOKUP: 3, fb.BuiltinOperatorEQUAL: 3,
	fb.BuiltinOperatorEXP: 1, fb.BuiltinOperatorEXPAND_DIMS: 1, fb.BuiltinOperatorFILL: 3, fb.BuiltinOperatorFLOOR: 1,
	fb.BuiltinOperatorFULLY_CONNECTED: 9, fb.BuiltinOperatorGATHER: 5, fb.BuiltinOperatorGATHER_ND: 3,
	fb.BuiltinOperatorGELU: 2, fb.BuiltinOperatorGREATER: 2, fb.BuiltinOperatorGREATER_EQUAL: 2,
	fb.BuiltinOperatorHARD_SWISH: 1, fb.BuiltinOperatorL2_NORMALIZATION: 2, fb.BuiltinOperatorL2_POOL_2D: 1,
	fb.BuiltinOperatorLEAKY_RELU: 2, fb.BuiltinOperatorLESS: 2, fb.BuiltinOperatorLESS_EQUAL: 2,
	fb.BuiltinOperatorLOCAL_RESPONSE_NORMALIZATION: 1, fb.BuiltinOperatorLOG: 1, fb.BuiltinOperatorLOG_SOFTMAX: 2,
	fb.BuiltinOperatorLOGISTIC: 3, fb.BuiltinOperatorMAX_POOL_2D: 3, fb.BuiltinOperatorMAXIMUM: 4,
	fb.BuiltinOperatorMEAN: 3, fb.BuiltinOperatorMINIMUM: 4, fb.BuiltinOperatorMIRROR_PAD: 2, fb.BuiltinOperatorMUL: 6,
	fb.BuiltinOperatorNEG: 1, fb.BuiltinOperatorNOT_EQUAL: 3, fb.BuiltinOperatorONE_HOT: 1, fb.BuiltinOperatorPACK: 3,
	fb.BuiltinOperatorPAD: 4, fb.BuiltinOperatorPADV2: 4, fb.BuiltinOperatorPOW: 1, fb.BuiltinOperatorPRELU: 1,
	fb.BuiltinOperatorQUANTIZE: 3, fb.BuiltinOperatorREDUCE_MAX: 3, fb.BuiltinOperatorREDUCE_MIN: 3,
	fb.BuiltinOperatorREDUCE_PROD: 2, fb.BuiltinOperatorRELU: 3, fb.BuiltinOperatorRELU6: 3,
	fb.BuiltinOperatorRELU_N1_TO_1: 1, fb.BuiltinOperatorRESHAPE: 1, fb.BuiltinOperatorRESIZE_BILINEAR: 4,
	fb.BuiltinOperatorRESIZE_NEAREST_NEIGHBOR: 4, fb.BuiltinOperatorREVERSE_V2: 3, fb.BuiltinOperatorRSQRT: 2,
	fb.BuiltinOperatorSELECT: 2, fb.BuiltinOperatorSELECT_V2: 1, fb.BuiltinOperatorSIN: 1, fb.BuiltinOperatorSLICE: 5,
	fb.BuiltinOperatorSOFTMAX: 3, fb.BuiltinOperatorSPACE_TO_BATCH_ND: 3, fb.BuiltinOperatorSPACE_TO_DEPTH: 2,
	fb.BuiltinOperatorSPLIT: 4, fb.BuiltinOperatorSPLIT_V: 2, fb.BuiltinOperatorSQRT: 1, fb.BuiltinOperatorSQUARE: 1,
	fb.BuiltinOperatorSQUARED_DIFFERENCE: 2, fb.BuiltinOperatorSQUEEZE: 2, fb.BuiltinOperatorSTRIDED_SLICE: 6,
	fb.BuiltinOperatorSUB: 5, fb.BuiltinOperatorSUM: 2, fb.BuiltinOperatorSVDF: 4, fb.BuiltinOperatorTANH: 3,
	fb.BuiltinOperatorTILE: 3, fb.BuiltinOperatorTOPK_V2: 2, fb.BuiltinOperatorTRANSPOSE: 5,
	fb.BuiltinOperatorTRANSPOSE_CONV: 3, fb.BuiltinOperatorUNIDIRECTIONAL_SEQUENCE_LSTM: 3, fb.BuiltinOperatorUNPACK: 4,
	fb.BuiltinOperatorZEROS_LIKE: 1,
}

// PinnedMax returns the highest version of op the pinned runtime registers
// and whether that was measured (0 with true: not registered at all).
func PinnedMax(op fb.BuiltinOperator) (int32, bool) {
	v, ok := pinnedMax[op]
	return v, ok
}
