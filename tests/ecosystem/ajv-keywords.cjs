// Keywords of fleetgen's schemas that are for editors, not for validation: declared so that
// ajv's strict mode accepts them (and still rejects any other unknown keyword).
module.exports = (ajv) => {
  ajv.addKeyword({ keyword: "markdownDescription", schemaType: "string" });
  return ajv;
};
