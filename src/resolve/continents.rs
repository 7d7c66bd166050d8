//! The continent Route 53 geolocation routing gives each cloud region: one of its continent
//! codes, `AF` `AN` `AS` `EU` `NA` `OC` `SA` (Route 53 API reference, `GeoLocation`
//! `ContinentCode`), looked up by the region's exact name in a table. Names are matched
//! whole, never by a part: `us` is inside `australiaeast` and `austriaeast`, and reading it
//! there sent Australian and Austrian clusters to North America.
//!
//! Sources: the Azure public cloud's physical regions (`az account list-locations`, the
//! names of Microsoft's "Azure regions list" on learn.microsoft.com), with the canary regions
//! (`*euap`), Azure Government (`usgov*`, `usdod*`) and Azure China (`china*`), and the AWS
//! regions (AWS General Reference, "Regions and endpoints"): every region Route 53's latency
//! records name (`route53::LATENCY_REGIONS`: GovCloud, China and the European Sovereign Cloud
//! among them), each put on its continent as
//! Route 53 locates the region's country (the Middle East is `AS`). A region not in the table
//! (a new one, or a typo) has no continent: geo routing over it is FG054, at the contract.

use crate::model::Provider;

/// Azure regions by continent.
const AZURE: &[(&str, &str)] = &[
    ("australiacentral", "OC"),
    ("australiacentral2", "OC"),
    ("australiaeast", "OC"),
    ("australiasoutheast", "OC"),
    ("austriaeast", "EU"),
    ("belgiumcentral", "EU"),
    ("brazilsouth", "SA"),
    ("brazilsoutheast", "SA"),
    ("canadacentral", "NA"),
    ("canadaeast", "NA"),
    ("centralindia", "AS"),
    ("centralus", "NA"),
    ("centraluseuap", "NA"),
    ("chilecentral", "SA"),
    ("chinaeast", "AS"),
    ("chinaeast2", "AS"),
    ("chinaeast3", "AS"),
    ("chinanorth", "AS"),
    ("chinanorth2", "AS"),
    ("chinanorth3", "AS"),
    ("denmarkeast", "EU"),
    ("eastasia", "AS"),
    ("eastus", "NA"),
    ("eastus2", "NA"),
    ("eastus2euap", "NA"),
    ("francecentral", "EU"),
    ("francesouth", "EU"),
    ("germanynorth", "EU"),
    ("germanywestcentral", "EU"),
    ("indonesiacentral", "AS"),
    ("israelcentral", "AS"),
    ("italynorth", "EU"),
    ("japaneast", "AS"),
    ("japanwest", "AS"),
    ("jioindiacentral", "AS"),
    ("jioindiawest", "AS"),
    ("koreacentral", "AS"),
    ("koreasouth", "AS"),
    ("malaysiawest", "AS"),
    ("mexicocentral", "NA"),
    ("newzealandnorth", "OC"),
    ("northcentralus", "NA"),
    ("northeurope", "EU"),
    ("norwayeast", "EU"),
    ("norwaywest", "EU"),
    ("polandcentral", "EU"),
    ("qatarcentral", "AS"),
    ("southafricanorth", "AF"),
    ("southafricawest", "AF"),
    ("southcentralus", "NA"),
    ("southeastasia", "AS"),
    ("southindia", "AS"),
    ("spaincentral", "EU"),
    ("swedencentral", "EU"),
    ("swedensouth", "EU"),
    ("switzerlandnorth", "EU"),
    ("switzerlandwest", "EU"),
    ("taiwannorth", "AS"),
    ("taiwannorthwest", "AS"),
    ("uaecentral", "AS"),
    ("uaenorth", "AS"),
    ("uksouth", "EU"),
    ("ukwest", "EU"),
    ("usdodcentral", "NA"),
    ("usdodeast", "NA"),
    ("usgovarizona", "NA"),
    ("usgovtexas", "NA"),
    ("usgovvirginia", "NA"),
    ("westcentralus", "NA"),
    ("westeurope", "EU"),
    ("westindia", "AS"),
    ("westus", "NA"),
    ("westus2", "NA"),
    ("westus3", "NA"),
];

/// AWS regions by continent.
const AWS: &[(&str, &str)] = &[
    ("af-south-1", "AF"),
    ("ap-east-1", "AS"),
    ("ap-east-2", "AS"),
    ("ap-northeast-1", "AS"),
    ("ap-northeast-2", "AS"),
    ("ap-northeast-3", "AS"),
    ("ap-south-1", "AS"),
    ("ap-south-2", "AS"),
    ("ap-southeast-1", "AS"),
    ("ap-southeast-2", "OC"),
    ("ap-southeast-3", "AS"),
    ("ap-southeast-4", "OC"),
    ("ap-southeast-5", "AS"),
    ("ap-southeast-6", "OC"),
    ("ap-southeast-7", "AS"),
    ("ca-central-1", "NA"),
    ("ca-west-1", "NA"),
    ("cn-north-1", "AS"),
    ("cn-northwest-1", "AS"),
    ("eu-central-1", "EU"),
    ("eu-central-2", "EU"),
    ("eu-north-1", "EU"),
    ("eu-south-1", "EU"),
    ("eu-south-2", "EU"),
    ("eu-west-1", "EU"),
    ("eu-west-2", "EU"),
    ("eu-west-3", "EU"),
    ("eusc-de-east-1", "EU"),
    ("il-central-1", "AS"),
    ("me-central-1", "AS"),
    ("me-south-1", "AS"),
    ("mx-central-1", "NA"),
    ("sa-east-1", "SA"),
    ("us-east-1", "NA"),
    ("us-east-2", "NA"),
    ("us-gov-east-1", "NA"),
    ("us-gov-west-1", "NA"),
    ("us-west-1", "NA"),
    ("us-west-2", "NA"),
];

/// The Route 53 continent code of `region`; `None` for a region the table does not name.
pub fn continent(provider: Provider, region: &str) -> Option<&'static str> {
    let table = match provider {
        Provider::Azure => AZURE,
        Provider::Aws => AWS,
    };
    table
        .binary_search_by(|(name, _)| (*name).cmp(region))
        .ok()
        .map(|i| table[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_route53_routes_by_latency_has_a_continent() {
        for region in crate::resolve::route53::LATENCY_REGIONS {
            assert!(continent(Provider::Aws, region).is_some(), "{region}");
        }
        for region in ["usgovvirginia", "chinanorth3", "taiwannorth", "eastus2euap"] {
            assert!(continent(Provider::Azure, region).is_some(), "{region}");
        }
    }

    #[test]
    fn the_tables_are_sorted_and_name_only_route53_continents() {
        for table in [AZURE, AWS] {
            assert!(
                table.windows(2).all(|w| w[0].0 < w[1].0),
                "binary search needs sorted names"
            );
            for (region, c) in table {
                assert!(["AF", "AN", "AS", "EU", "NA", "OC", "SA"].contains(c), "{region}: {c}");
            }
        }
    }
}
